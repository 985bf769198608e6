// replication::storage_log_view — the raft::log_view over a partition's
// storage::log and its epoch_cache: one entry per record batch (offsets
// [baseOffset, lastOffset], term = partitionLeaderEpoch, type from the
// control record, payload = the whole batch bytes).
//
// Thread safety: none beyond the log's; the group's strand owns it (the
// core reads it only there, and only the strand writes the log).
#pragma once

#include "replication/group/epoch_cache.h"
#include "replication/raft/log_view.h"
#include "storage/log.h"

namespace kappa::replication {

class storage_log_view final : public raft::log_view {
 public:
  // Both must outlive the view.
  storage_log_view(const storage::log& log, const epoch_cache& epochs)
      : log_(&log), epochs_(&epochs) {}

  raft::log_index first_index() const override { return raft::log_index(log_->log_start_offset()); }
  raft::log_index last_index() const override {
    return raft::log_index(log_->log_end_offset() - 1);
  }
  Result<raft::term_id> term(raft::log_index i) const override;
  Result<std::vector<raft::entry>> entries(raft::log_index lo, raft::log_index hi,
                                           uint64_t max_bytes) const override;

 private:
  const storage::log* log_;
  const epoch_cache* epochs_;
};

// The Raft entry of one whole batch.
raft::entry entry_of_batch(byte_view batch);

}  // namespace kappa::replication
