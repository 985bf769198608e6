// Error codes of the Raft core, registered as the std::error_category
// "kappa.raft".
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::raft {

enum class errc {
  ok = 0,
  not_leader = 1,         // proposal on a non-leader; the message names the leader, if known
  transfer_in_progress,   // the leader is handing leadership over: proposals wait
  config_change_pending,  // an earlier config change is not committed yet
  leader_not_ready,       // a new leader has not committed an entry of its term yet
  invalid_config_change,  // e.g. adding a member twice, promoting a non-learner
  compacted,              // the index is below the log's first index
  unavailable,            // the index is above the log's last index
  invalid_argument,       // a caller broke a documented precondition
};

const std::error_category& error_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), error_category()};
}
inline Status error(errc e, std::string message) {
  return Status(make_error_code(e), std::move(message));
}

}  // namespace kappa::raft

template <>
struct std::is_error_code_enum<kappa::raft::errc> : std::true_type {};
