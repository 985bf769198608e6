// One ProduceStream call to one broker: the producer's pipelined transport.
//
// Why the stream and not concurrent unary Produce calls: the broker handles
// one stream's requests in order and answers them in order per partition,
// which is what idempotent producing needs with 5 batches in flight (unary
// calls are separate HTTP/2 streams that the broker may run in any order, and
// a reordered batch is an OUT_OF_ORDER_SEQUENCE_NUMBER). One stream per broker
// also saves the per-call setup on every request.
//
// Why gRPC's callback API: write() only queues the request, so the producer's
// sender thread goes back to building the next request while gRPC's threads
// serialise and send this one (a blocking write held the sender ~0.1 ms per
// 64 KiB request, which capped a producer at about a quarter of what the
// connection carries). Requests go out in write() order, one at a time.
//
// Threads: the owner (the producer's sender thread) calls write() and
// destroys the object. on_response runs on a gRPC thread for each response,
// in order; on_broken runs once, on a gRPC thread, when the stream ends for
// any reason. Neither is called after the destructor returns. The destructor
// must not run while holding a lock that the callbacks take.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "client/src/connection_pool.h"

namespace kappa::client {

// Bytes of requests queued and not yet handed to gRPC past which write()
// blocks: backpressure when nothing else bounds what is queued (acks=none,
// whose batches complete once written).
inline constexpr size_t kStreamQueuedBytesMax = size_t{16} << 20;

class produce_stream final
    : public grpc::ClientBidiReactor<v1::ProduceRequest, v1::ProduceResponse> {
 public:
  using response_fn = std::function<void(uint64_t stream_id, v1::ProduceResponse&)>;
  using broken_fn = std::function<void(uint64_t stream_id, const std::string& why)>;

  produce_stream(uint64_t id, std::string address, v1::Broker::Stub* stub, response_fn on_response,
                 broken_fn on_broken);
  ~produce_stream();
  produce_stream(const produce_stream&) = delete;
  produce_stream& operator=(const produce_stream&) = delete;

  // Queues the request behind the earlier ones. Blocks only while
  // kStreamQueuedBytesMax are queued. False when the stream is broken
  // (on_broken is, or will be, called); a request queued when the stream
  // breaks is never sent (the producer retries it from on_broken).
  bool write(v1::ProduceRequest request);
  // Ends the call (e.g. a request timed out); on_broken follows.
  void cancel() { context_.TryCancel(); }
  bool broken() const;
  uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }

  // grpc::ClientBidiReactor
  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  struct queued {
    v1::ProduceRequest request;
    size_t bytes = 0;
  };

  const uint64_t id_;
  const std::string address_;
  grpc::ClientContext context_;
  response_fn on_response_;
  broken_fn on_broken_;
  v1::ProduceResponse response_;  // the read in progress; owned by gRPC meanwhile

  mutable std::mutex mu_;
  std::condition_variable cv_;  // room in the queue, or done_
  std::deque<queued> queue_;    // front() is being written when writing_
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool broken_ = false;
  bool done_ = false;  // OnDone ran: no more callbacks
};

}  // namespace kappa::client
