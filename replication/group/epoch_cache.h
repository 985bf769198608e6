// replication::epoch_cache — Kafka's leader-epoch checkpoint for one log: the
// list of (epoch, start offset) pairs, one per leader epoch that appended to
// the log, in increasing order of both. It answers term(offset) for the Raft
// log_view without reading batches, including the term of the offset just
// below the log start after retention (entries are never dropped from the
// front).
//
// File (storage::write_metadata_file, version 1, big-endian):
//   count:uint32 (epoch:uint64 start:int64){count}
// Written atomically whenever the list changes. On load the list is checked
// against the log (entries past its end are dropped; the epochs of its first
// and last batches must match) and rebuilt from batch headers when the file
// is missing, damaged or inconsistent.
//
// Thread safety: none; the group's strand owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/raft/types.h"
#include "storage/env.h"
#include "storage/log.h"

namespace kappa::replication {

class epoch_cache {
 public:
  struct epoch_entry {
    raft::term_id epoch;
    int64_t start = 0;  // the first offset written in this epoch
    bool operator==(const epoch_entry&) const = default;
  };

  // Loads `path` and checks it against `log`, or rebuilds (and writes) it.
  static Result<std::unique_ptr<epoch_cache>> open(storage::env& e, std::string path,
                                                   const storage::log& log);

  // The epoch of the entry containing `offset` (0 before the first entry).
  raft::term_id term_at(int64_t offset) const;
  raft::term_id last_epoch() const {
    return entries_.empty() ? raft::term_id(0) : entries_.back().epoch;
  }

  // A batch of `epoch` was appended at base_offset. Adds (and persists) an
  // entry when the epoch is new. REQUIRES: epoch >= last_epoch().
  Status on_append(raft::term_id epoch, int64_t base_offset);
  // The log lost every offset >= offset: drops the entries starting there.
  Status truncate_from(int64_t offset);
  // The log restarted empty at `start`, whose previous offset had
  // `prev_epoch`: the list becomes that one fact.
  Status reset(int64_t start, raft::term_id prev_epoch);

  const std::vector<epoch_entry>& entries() const { return entries_; }
  // True when open() had to rebuild the list from the log.
  bool rebuilt() const { return rebuilt_; }

 private:
  epoch_cache(storage::env& e, std::string path) : env_(&e), path_(std::move(path)) {}
  Status persist();
  Status rebuild(const storage::log& log);
  bool consistent_with(const storage::log& log) const;

  storage::env* env_;
  std::string path_;
  std::vector<epoch_entry> entries_;
  bool rebuilt_ = false;
};

// The partitionLeaderEpoch of the batch containing `offset`, read from the log.
Result<raft::term_id> batch_epoch_at(const storage::log& log, int64_t offset);

}  // namespace kappa::replication
