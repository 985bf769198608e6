// Idempotent-producer state of one partition (Kafka's ProducerStateManager,
// reduced to idempotence): per producer id, its epoch and the sequence
// ranges and offsets of its last kBatchesPerProducer batches.
//
//  - a batch whose sequence range equals a cached one is a duplicate (a
//    retry after a lost response): the caller answers with the cached
//    offsets and stores nothing;
//  - a batch whose first sequence is not the last one + 1 is a gap:
//    OUT_OF_ORDER_SEQUENCE_NUMBER;
//  - a batch with an epoch below the producer's is fenced:
//    INVALID_PRODUCER_EPOCH; a higher epoch restarts sequences at 0.
//  - a producer id never seen is accepted at any sequence (its state may
//    have been lost to retention or eviction, as Kafka accepts it).
//
// Batches with producerId < 0 or baseSequence < 0 are not idempotent and are
// never checked. At most kProducersMax producers are kept; past that the one
// that wrote least recently is forgotten (its next batch is accepted as from
// a new producer).
//
// Survives restarts: a snapshot (encode/decode, tagged with the log offset
// it covers) is written at clean close, and on open the batches after that
// offset are replayed through observe(). Not thread-safe: the partition's
// strand owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "proto/format/bytes.h"
#include "proto/format/record_batch.h"
#include "proto/format/result.h"
#include "storage/env.h"
#include "storage/log.h"

namespace kappa::broker {

inline constexpr size_t kBatchesPerProducer = 5;
inline constexpr size_t kProducersMax = 4000;  // keeps a snapshot well under 1 MiB

struct producer_batch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  bool operator==(const producer_batch&) const = default;
};

struct producer_entry {
  int16_t epoch = 0;
  std::deque<producer_batch> batches;  // oldest first, at most kBatchesPerProducer
};

// What to do with a batch about to be appended.
struct sequence_check {
  enum class kind { append, duplicate, reject } what = kind::append;
  producer_batch original;  // for duplicate: where it was stored
  Status error;             // for reject: OUT_OF_ORDER_SEQUENCE / INVALID_PRODUCER_EPOCH
};

class producer_state {
 public:
  // `h` is a validated batch header (its baseOffset is not yet assigned).
  sequence_check check(const format::batch_header& h) const;
  // Records an appended batch; `h.base_offset` is its assigned offset. Also
  // used to replay batches read back from the log at open.
  void observe(const format::batch_header& h);

  const std::map<int64_t, producer_entry>& producers() const { return producers_; }
  size_t size() const { return producers_.size(); }

  // Snapshot covering every batch below `log_offset`.
  byte_buffer encode(int64_t log_offset) const;
  // Replaces this state with a snapshot; returns the offset it covers.
  Result<int64_t> decode(byte_view snapshot);

 private:
  void evict_one();

  std::map<int64_t, producer_entry> producers_;
};

// Rebuilds `out` for `log`: the snapshot at `snapshot_path` (when it exists,
// decodes and does not reach past the log end — a snapshot past the end saw
// a tail that is gone: a torn tail after a crash, or a Raft divergence
// repair), then every batch header after it up to the log end (bounded by
// the log's size). `name` is for log messages. Errors: the log's read errors.
Status rebuild_producer_state(storage::env& e, const storage::log& log,
                              const std::string& snapshot_path, const std::string& name,
                              producer_state* out);

// The last sequence number of a batch (sequences wrap past INT32_MAX to 0).
int32_t last_sequence(int32_t base_sequence, int32_t last_offset_delta);

}  // namespace kappa::broker
