// The implementation of storage::log (log.h). Private to storage/.
//
// Locks, always taken in this order:
//   append_mu_  serialises every mutation (append, roll, truncation,
//               retention, close) so the writer needs no other lock for the
//               bytes it writes;
//   flush_mu_   serialises fsyncs; appends continue while it is held, and
//               a flusher that finds its target already durable returns at
//               once (group commit);
//   state_mu_   shared by readers; taken exclusively, briefly, to publish an
//               append or to change the segment list, mappings and indexes;
//   status_mu_  guards status_.
// Readers copy a segment's mapping (shared_ptr) and readable size under the
// shared lock and walk the bytes after releasing it: published bytes never
// change under a held mapping (truncate_suffix rewrites rather than shrinks a
// file whose mapping is referenced).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "proto/format/batch_validator.h"
#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace kappa::storage {

class log_impl final : public log {
 public:
  log_impl(env& e, std::string dir, log_config config);
  ~log_impl() override = default;

  // Opens the directory and recovers it (log_recovery.cc).
  Status recover();

  Status status() const override;
  Result<append_result> append(mutable_byte_view batch, int32_t leader_epoch) override;
  Result<append_result> append_with_offsets(byte_view batch) override;
  Status flush() override;
  Result<read_view> read(int64_t offset, size_t max_bytes, int64_t max_offset) const override;
  Result<std::optional<int64_t>> offset_for_timestamp(int64_t timestamp_ms) const override;
  int64_t log_start_offset() const override { return log_start_.load(std::memory_order_acquire); }
  int64_t log_end_offset() const override { return log_end_.load(std::memory_order_acquire); }
  int64_t durable_end_offset() const override { return durable_end_.load(std::memory_order_acquire); }
  uint64_t size_bytes() const override;
  int segment_count() const override;
  Status truncate_suffix(int64_t offset) override;
  Status truncate_prefix(int64_t offset) override;
  Result<retention_result> enforce_retention() override;
  Status reset(int64_t new_start) override;
  Result<corruption_repair> repair_corruption() override;
  const log_config& config() const override { return config_; }
  void set_config(const log_config& config) override;
  const std::string& dir() const override { return dir_; }
  Status close() override;

 private:
  using segment_ptr = std::shared_ptr<segment>;

  // log.cc
  Result<format::batch_header> validate_for_append(byte_view batch) const;
  Result<append_result> append_locked(byte_view batch, const format::batch_header& h);
  Status maybe_roll_locked(const format::batch_header& next);
  Status roll_locked();
  Status seal_locked(segment& s);
  Status mark_dirty_locked();
  Status write_checkpoint_locked(bool clean);
  Status flush_to(int64_t target);
  Status check_writable() const;
  void fail(Status why);
  uint64_t reserve_bytes() const;
  // Index of the segment holding `offset`. REQUIRES: state_mu_ held; non-empty.
  size_t find_segment(int64_t offset) const;
  // Position of the batch holding `offset` (or a batch before it) by the
  // offset index, verified against the log; 0 if the index is wrong.
  static uint64_t index_position(const segment& s, int64_t offset);

  // log_recovery.cc
  Status open_segments(std::vector<segment_ptr>& out);
  bool clean_checkpoint_holds(const checkpoint& cp, std::vector<segment_ptr>& segs) const;
  Status recover_unclean(std::vector<segment_ptr>& segs, int64_t recovery_point);

  // log_truncate.cc
  Status delete_prefix_segments_locked(size_t count, retention_result* result);

  // log_repair.cc
  // The end offset of the valid batches found in the damaged bytes and in
  // the segment files after the last kept segment.
  int64_t end_past_damage() const;
  Status remove_segment_files_after(int64_t base);

  env& env_;
  const std::string dir_;
  log_config config_;

  mutable std::mutex append_mu_;
  mutable std::mutex flush_mu_;
  mutable std::shared_mutex state_mu_;
  mutable std::mutex status_mu_;

  std::vector<segment_ptr> segments_;   // by base offset; back() is active [state_mu_]
  std::vector<segment_ptr> unsynced_;   // segments with unsynced data [state_mu_]
  std::atomic<int64_t> log_start_{0};
  std::atomic<int64_t> log_end_{0};
  std::atomic<int64_t> durable_end_{0};
  int64_t recovery_point_ = 0;          // [append_mu_]
  bool dirty_marked_ = false;           // a clean=false checkpoint is durable [append_mu_]
  std::atomic<bool> closed_{false};
  std::atomic<bool> failed_{false};
  bool corrupt_at_open_ = false;        // recovery found corruption; repair_corruption() may clear it [append_mu_]
  Status status_;                       // [status_mu_]
};

}  // namespace kappa::storage
