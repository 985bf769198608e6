// libkappa producer: asynchronous, batching, idempotent.
//
//   auto p = kappa::producer::create(config);            // connects lazily
//   p.value()->send({.topic = "t", .value = "v"}, [](const kappa::delivery_report& r) {...});
//   auto f = p.value()->send({.topic = "t", .key = "k", .value = "v"});
//   p.value()->flush();
//
// Thread safety: every method may be called from any thread concurrently.
// Ordering: records sent to one partition are delivered in send() order,
// also across retries (at most 5 batches in flight per partition, and a
// retried batch goes out again before anything after it).
// Exactly-once delivery per partition (idempotence, on by default with acks
// leader/all): each batch carries the producer id and a sequence number and
// a retry resends the same bytes, so the broker drops duplicates.
// Failover: a partition whose leader moves (NOT_LEADER_OR_FOLLOWER and its
// leader hint, LEADER_NOT_AVAILABLE during an election, a leader that dies,
// NOT_ENOUGH_REPLICAS, timeouts) is re-routed and retried with backoff until
// delivery_timeout_ms, in order and with unchanged sequences: a batch that
// did commit before the failure is answered as a duplicate with its
// original offset. The application sees one report per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kappa/client_config.h"
#include "kappa/error.h"
#include "kappa/types.h"

namespace kappa {

enum class acks {
  none,    // do not wait for the broker: reports carry offset -1
  leader,  // the leader appended it
  all,     // committed by the replicas (the default)
};

enum class compression_codec { none, gzip, snappy, lz4, zstd };

struct producer_config {
  client_config client;
  acks required_acks = acks::all;
  // Sequence-numbered batches the broker deduplicates. Needs responses, so it
  // is off when required_acks == none.
  bool idempotence = true;
  // How long a partition's batch waits for more records before it is sent.
  int64_t linger_ms = 5;
  // A partition's batch is sent once it holds this many (estimated) bytes.
  // A single larger record travels alone in its own batch.
  size_t batch_bytes = size_t{64} << 10;
  // Bytes of records buffered (queued or in flight) across all partitions.
  // When full, send() blocks up to max_block_ms, then fails with queue_full.
  size_t buffer_bytes = size_t{32} << 20;
  // Longest send() blocks: for metadata of a new topic and for buffer space.
  int64_t max_block_ms = 60000;
  // A record not acknowledged within this time of send() fails with timeout
  // (retries happen inside it).
  int64_t delivery_timeout_ms = 120000;
  compression_codec compression = compression_codec::none;
  // 1..5. More than 5 would break the broker's duplicate window.
  int max_in_flight_per_partition = 5;
  // Upper bound of one ProduceRequest's record bytes (one batch always goes).
  size_t max_request_bytes = size_t{4} << 20;
};

struct producer_record {
  std::string topic;
  // Explicit partition; when absent the key picks it (murmur2, as Kafka's
  // default partitioner), or, for a null key, the sticky partitioner.
  std::optional<int32_t> partition;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<header> headers;
  // Milliseconds since the epoch; absent = the time of send().
  std::optional<int64_t> timestamp_ms;
};

// The outcome of one send(): where the record landed, or why it did not.
struct delivery_report {
  std::string topic;
  int32_t partition = -1;  // -1 when it failed before a partition was chosen
  int64_t offset = -1;     // -1 with acks::none
  int64_t timestamp_ms = -1;
  Status status;  // ok, or the error (client_category())
  bool ok() const { return status.ok(); }
};

using delivery_callback = std::function<void(const delivery_report&)>;

class producer {
 public:
  // Validates the config; does not connect (that happens on first use).
  static Result<std::unique_ptr<producer>> create(const producer_config& config);
  // Closes (flushing for at most delivery_timeout_ms).
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  // Queues the record. Blocks up to max_block_ms while the topic's metadata
  // is unknown or the buffer is full; then (or on any other early failure,
  // e.g. a closed producer) the report carries the error.
  std::future<delivery_report> send(producer_record record);
  // As above; `callback` (may be empty) runs exactly once, on an internal
  // I/O thread (or on the calling thread for an early failure). It must not
  // block: it holds up other deliveries. It may call send(), but a send()
  // that has to wait for buffer space there waits for the very thread that
  // frees it, so expect queue_full after max_block_ms. It must not call
  // flush() or close().
  void send(producer_record record, delivery_callback callback);

  // Sends everything queued at once (ignoring linger) and waits until every
  // record sent so far has its report, or timeout_ms passes (-1 = no limit).
  Status flush(int64_t timeout_ms = -1);
  // Flushes (up to timeout_ms, -1 = delivery_timeout_ms), then stops: records
  // still pending fail with client_errc::closed, later send()s fail at once.
  // Returns the flush's status. Blocks at most timeout_ms plus about one
  // request or metadata round (the sender finishing what it is doing).
  // Idempotent.
  Status close(int64_t timeout_ms = -1);

  struct impl;

 private:
  explicit producer(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa
