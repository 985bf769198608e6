// Error codes of the controller, registered as the std::error_category
// "kappa.controller". The numbers are the public API's (kappa.v1.ErrorCode,
// Kafka's numbering), so a controller Status converts to an API error code
// as is (see api_error_code below) and travels in
// kappa.internal.v1.SubmitResponse.error_code unchanged.
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::controller {

enum class errc {
  ok = 0,
  unknown_server_error = -1,  // a record apply() refuses: a bug or corruption
  unknown_topic_or_partition = 3,
  request_timed_out = 7,  // no commit (or no leader) by the deadline
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,  // the message says how many brokers are live
  not_controller = 41,              // the message names the leader's id, if known
  invalid_request = 42,
  reassignment_in_progress = 60,
};

const std::error_category& error_category();
inline std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), error_category()};
}
inline Status error(errc e, std::string message) {
  return Status(make_error_code(e), std::move(message));
}

// The kappa.v1.ErrorCode number of `st`: controller codes pass through;
// anything else (storage, raft, OS) is UNKNOWN_SERVER_ERROR (-1).
int api_error_code(const Status& st);
// The inverse for codes read off the wire: a controller Status with `message`.
Status from_api_error_code(int code, std::string message);

}  // namespace kappa::controller

template <>
struct std::is_error_code_enum<kappa::controller::errc> : std::true_type {};
