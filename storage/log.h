// storage::log — one partition replica's log: a directory of segments
// (`<base offset, 20 digits>.log` with `.index` and `.timeindex`).
//
// Offsets are assigned here: append() stamps baseOffset and
// partitionLeaderEpoch into the batch (the CRC does not cover them) and writes
// the bytes unchanged otherwise. Reads return whole batches as views over
// memory-mapped segments, without copying.
//
// Durability: an append is durable once durable_end_offset() has passed its
// last offset. Under flush_policy::always, append() returns only after that
// (concurrent appenders share fsyncs: group commit); under interval, the
// owner (log_manager) calls flush() on a timer.
//
// Recovery on open: segments from the last checkpointed recovery point on are
// validated batch by batch (header and CRC). A torn tail (nothing valid after
// the first bad byte) is truncated. Damage followed by valid batches is
// corruption: the log opens in a failed state whose status() names the
// segment file and byte position, refuses appends, and nothing is truncated.
// A missing or damaged index is rebuilt from its segment.
//
// Thread safety: every method may be called from any thread. Appends are
// serialised internally; reads run concurrently with appends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proto/format/bytes.h"
#include "proto/format/result.h"
#include "storage/env.h"
#include "storage/log_config.h"

namespace kappa::storage {

// Whole batches read from one segment. `batches` stays valid while this
// object (its keep_alive) is held, even if the segment is rolled, truncated
// or deleted meanwhile.
struct read_view {
  std::shared_ptr<const mapped_region> keep_alive;
  byte_view batches;          // zero or more whole batches, in offset order
  int64_t next_offset = 0;    // offset after the last batch returned
};

struct append_result {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
};

struct retention_result {
  int segments_deleted = 0;
  uint64_t bytes_deleted = 0;
};

// What repair_corruption() did.
struct corruption_repair {
  int64_t truncated_at = 0;  // the log now ends here (the first damaged batch)
  // The best known end before the damage: the offset after the last valid
  // batch found past it (in the damaged segment or in later ones), else
  // truncated_at. Replication uses it to refuse votes until the log has
  // again reached it (committed data may have been there).
  int64_t end_before = 0;
};

class log {
 public:
  // Opens (creating if missing) the partition directory `dir` and recovers
  // it. Fails only when the directory cannot be used at all; corruption
  // yields an open log whose status() is the corruption.
  // REQUIRES: `e` outlives the log.
  static Result<std::unique_ptr<log>> open(env& e, std::string dir, log_config config);
  virtual ~log() = default;

  // ok, or why this log refuses appends (corruption found at open, or a
  // failed fsync after which the page cache cannot be trusted).
  virtual Status status() const = 0;

  // Validates `batch` (exactly one whole batch: header, CRC, size limit),
  // stamps the next offset and `leader_epoch` into it, and writes it.
  virtual Result<append_result> append(mutable_byte_view batch, int32_t leader_epoch) = 0;
  // Follower path: appends a batch whose offsets were assigned by the leader.
  // REQUIRES: its baseOffset == log_end_offset().
  virtual Result<append_result> append_with_offsets(byte_view batch) = 0;

  // fsyncs everything appended so far; concurrent callers share one fsync.
  virtual Status flush() = 0;

  // Whole batches from the one containing `offset`, up to max_bytes but always
  // at least one whole batch, never including a batch whose base offset is
  // >= max_offset. Errors: offset_out_of_range when offset < log_start_offset()
  // or offset > log_end_offset(); an empty view when offset == log_end_offset().
  virtual Result<read_view> read(int64_t offset, size_t max_bytes,
                                 int64_t max_offset = INT64_MAX) const = 0;

  // The first offset whose record timestamp is >= timestamp_ms, or nullopt if
  // there is none (Kafka's ListOffsets by time).
  virtual Result<std::optional<int64_t>> offset_for_timestamp(int64_t timestamp_ms) const = 0;

  virtual int64_t log_start_offset() const = 0;
  virtual int64_t log_end_offset() const = 0;      // the next offset to assign
  virtual int64_t durable_end_offset() const = 0;  // offsets below it are fsynced
  virtual uint64_t size_bytes() const = 0;
  virtual int segment_count() const = 0;

  // Removes every batch with offsets >= offset (replication's divergence
  // repair). Batches are whole: offset must be a batch boundary or the end.
  virtual Status truncate_suffix(int64_t offset) = 0;
  // Moves the log start to `offset` (delete-records) and deletes the segments
  // wholly below it. The new start is persisted.
  virtual Status truncate_prefix(int64_t offset) = 0;
  // Deletes whole non-active segments past retention.ms (by their max
  // timestamp, against env::now_ms()) or beyond retention.bytes.
  virtual Result<retention_result> enforce_retention() = 0;

  // Drops every segment: the log restarts empty at new_start (a replica that
  // fell behind its leader's log start). Persisted: a reopen, even after a
  // crash inside reset, sees either the old log or the empty one at
  // new_start (or the old log cut short at new_start when new_start is
  // inside it).
  virtual Status reset(int64_t new_start) = 0;
  // For a log whose status() is the corruption found at open: truncates at
  // the first damaged batch (deleting the damaged bytes and every later
  // segment), clears the failed state and returns what it did. Errors:
  // errc::invalid_argument when the log is not in that state.
  virtual Result<corruption_repair> repair_corruption() = 0;

  virtual const log_config& config() const = 0;
  virtual void set_config(const log_config& config) = 0;
  virtual const std::string& dir() const = 0;

  // Flushes and writes the clean-shutdown checkpoint, so the next open does
  // not scan. The log accepts nothing afterwards.
  virtual Status close() = 0;
};

}  // namespace kappa::storage
