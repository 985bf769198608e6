// The producer's record accumulator: per-partition batches, partition choice
// (explicit, murmur2 of the key, sticky for null keys), buffer accounting,
// in-flight limits and idempotent sequence numbers. No I/O, no threads, no
// clock: the producer calls it under its mutex with the current time, and
// tests drive it directly.
//
// A batch's life: open (taking records) -> sealed (full, lingered, or
// flushed; waits in its partition's queue) -> drained (sequence assigned,
// bytes built once, in flight) -> completed | failed | re-queued for retry
// (at the front, ahead of newer batches, same sequence and same bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kappa/producer.h"
#include "proto/format/records.h"

namespace kappa::client {

struct producer_batch {
  topic_partition tp;
  uint64_t id = 0;
  std::vector<format::record> records;
  std::vector<delivery_callback> callbacks;  // one per record
  size_t size_bytes = 0;                     // estimate, what the buffer holds for it
  int64_t created_ms = 0;
  int64_t deadline_ms = 0;  // the earliest record's delivery deadline
  // Assigned at the first drain and never changed: a retry resends `bytes`.
  int32_t base_sequence = -1;
  byte_buffer bytes;
  int attempts = 0;  // sends so far
};

struct accumulator_options {
  size_t batch_bytes = size_t{64} << 10;
  int64_t linger_ms = 5;
  size_t buffer_bytes = size_t{32} << 20;
  int max_in_flight_per_partition = 5;
  uint64_t seed = 0;  // sticky partition choice; fixed in tests
};

// Bytes a record is accounted as: its payload plus the worst-case varint
// framing of a record in a batch.
size_t estimate_record_bytes(const format::record& record);

class accumulator {
 public:
  explicit accumulator(const accumulator_options& options);

  bool has_room(size_t bytes) const { return buffer_used_ + bytes <= options_.buffer_bytes; }
  size_t buffer_used() const { return buffer_used_; }

  // Appends a record, choosing its partition when `partition` is absent
  // (murmur2 of the key, else the topic's sticky partition; a new sticky
  // partition is picked when the sticky one's batch is sealed or the record
  // would overflow it). Returns the partition. *plan_changed (if given) is
  // set when a batch was opened or sealed: the sender's next wake-up moved.
  // REQUIRES: partition_count > 0, an explicit partition <
  // partition_count, has_room(bytes).
  int32_t append(const std::string& topic, std::optional<int32_t> partition, int32_t partition_count,
                 format::record record, size_t bytes, delivery_callback callback, int64_t now_ms,
                 int64_t deadline_ms, bool* plan_changed = nullptr);

  // Seals open batches that lingered linger_ms (or all of them when
  // flush_all), then takes, per partition, the sealed batches that may go
  // now: in order, up to the in-flight limit, not during the partition's
  // retry backoff, and only one at a time while a retried batch leads (so a
  // retry cannot overtake). `sendable` says whether a partition's leader is
  // known. With `producer_id` >= 0 each fresh batch gets the partition's next
  // sequence. Bytes are NOT built here (the caller builds them once, when
  // batch->bytes is empty). Each returned batch counts as in flight.
  // With fresh_allowed false only batches that already have a sequence
  // (retries) are taken: the producer is waiting to bump its epoch.
  std::vector<std::unique_ptr<producer_batch>> drain(int64_t now_ms, bool flush_all,
                                                      const std::function<bool(const topic_partition&)>& sendable,
                                                      int64_t producer_id, bool fresh_allowed = true);

  // When drain() may next have something to take, given nothing else
  // happens (the earliest linger or backoff expiry); INT64_MAX if never.
  int64_t next_ready_ms() const;

  // A drained batch ended: acknowledged or failed for good. Frees its buffer
  // bytes and in-flight slot; `acknowledged` advances the partition's
  // acknowledged sequence.
  void complete(const producer_batch& batch, bool acknowledged);
  // A drained batch will be retried: back to the front of its partition's
  // queue (ordered by sequence), no drain for the partition before
  // retry_at_ms.
  void retry(std::unique_ptr<producer_batch> batch, int64_t retry_at_ms);

  // True when OUT_OF_ORDER_SEQUENCE_NUMBER for this batch only means an
  // earlier batch of its partition has not landed yet (it is being retried),
  // so the batch should be retried too rather than failed.
  bool earlier_batch_pending(const producer_batch& batch) const;

  // Removes and returns every batch not in flight (for expiry or close).
  std::vector<std::unique_ptr<producer_batch>> take_if(
      const std::function<bool(const producer_batch&)>& predicate);

  // True once a sequenced batch failed for good since the last
  // reset_sequences(): the broker's sequence for its partition now lags
  // ours, so the producer must bump its epoch (which restarts sequences).
  bool sequence_broken() const { return sequence_broken_; }
  // True while a queued batch carries a sequence (a retry in waiting).
  bool has_sequenced_queued() const;
  // After an epoch bump: every partition's sequences start again at 0.
  // REQUIRES: nothing in flight and !has_sequenced_queued().
  void reset_sequences();

  int in_flight(const topic_partition& tp) const;
  size_t queued_batches() const;

 private:
  struct partition_state {
    std::unique_ptr<producer_batch> open;
    std::deque<std::unique_ptr<producer_batch>> sealed;
    int in_flight = 0;
    int32_t next_sequence = 0;
    int32_t acked_sequence = 0;  // first sequence not yet acknowledged
    int64_t backoff_until_ms = 0;
  };
  struct sticky_state {
    int32_t partition = -1;
    uint64_t batch_id = 0;  // the open batch the sticky choice belongs to
  };

  partition_state& state(const topic_partition& tp) { return partitions_[tp]; }
  void seal(partition_state& s);
  int32_t pick_sticky(const std::string& topic, int32_t partition_count, size_t bytes);

  accumulator_options options_;
  std::map<topic_partition, partition_state> partitions_;
  std::map<std::string, sticky_state> sticky_;
  std::mt19937_64 rng_;
  uint64_t next_batch_id_ = 1;
  size_t buffer_used_ = 0;
  bool sequence_broken_ = false;
};

}  // namespace kappa::client
