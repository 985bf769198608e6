// replication::persisted_state — what a Raft group keeps beside its log: the
// hard state (term, vote, commit) and the last committed membership (conf,
// conf_index), in one file written atomically and checksummed
// (storage::write_metadata_file).
//
// Payload v1 (big-endian):
//   term:uint64 vote:uint64 commit:int64 conf_index:int64
//   conf_len:uint32 conf:bytes{conf_len}   (raft::encode_config)
//
// Thread safety: plain functions; callers serialise writes to one path.
#pragma once

#include <string>

#include "proto/format/result.h"
#include "replication/raft/types.h"
#include "storage/env.h"

namespace kappa::replication {

struct persisted_state {
  raft::hard_state hard;
  raft::config conf;
  raft::log_index conf_index = raft::no_index;
  bool operator==(const persisted_state&) const = default;
};

Status write_persisted_state(storage::env& e, const std::string& path, const persisted_state& s);
// Errors: storage::errc::not_found when absent; storage::errc::bad_checkpoint
// when damaged or not a state file.
Result<persisted_state> read_persisted_state(storage::env& e, const std::string& path);

}  // namespace kappa::replication
