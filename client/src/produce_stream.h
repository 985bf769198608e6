// One ProduceStream call to one broker: the producer's pipelined transport.
//
// Why the stream and not concurrent unary Produce calls: the broker handles
// one stream's requests in order and answers them in order per partition,
// which is what idempotent producing needs with 5 batches in flight (unary
// calls are separate HTTP/2 streams that the broker may run in any order, and
// a reordered batch is an OUT_OF_ORDER_SEQUENCE_NUMBER). One stream per broker
// also saves the per-call setup on every request.
//
// Threads: the owner (the producer's sender thread) calls write() and
// destroys the object; a reader thread owned by the object delivers each
// response to on_response, and calls on_broken once when the stream ends
// for any reason. Neither callback is called after the destructor returns.
// The destructor must not run while holding a lock that the callbacks take.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "client/src/connection_pool.h"

namespace kappa::client {

class produce_stream {
 public:
  using response_fn = std::function<void(uint64_t stream_id, v1::ProduceResponse&)>;
  using broken_fn = std::function<void(uint64_t stream_id, const std::string& why)>;

  produce_stream(uint64_t id, std::string address, v1::Broker::Stub* stub, response_fn on_response,
                 broken_fn on_broken);
  ~produce_stream();
  produce_stream(const produce_stream&) = delete;
  produce_stream& operator=(const produce_stream&) = delete;

  // Blocks while gRPC flow control holds the write. False when the stream
  // is broken (on_broken is, or will be, called).
  bool write(const v1::ProduceRequest& request);
  // Ends the call (e.g. a request timed out); on_broken follows.
  void cancel() { context_.TryCancel(); }
  bool broken() const { return broken_.load(); }
  uint64_t id() const { return id_; }
  const std::string& address() const { return address_; }

 private:
  void read_loop();

  const uint64_t id_;
  const std::string address_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProduceRequest, v1::ProduceResponse>> stream_;
  response_fn on_response_;
  broken_fn on_broken_;
  std::atomic<bool> broken_{false};
  std::thread reader_;
};

}  // namespace kappa::client
