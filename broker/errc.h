// Error codes of the broker module, registered as a std::error_category named
// "kappa.broker". The numbers are the public API's (kappa.v1.ErrorCode, which
// reuses Kafka's numbering), so a Status converts to a per-partition error
// code without a table.
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::broker {

enum class errc {
  ok = 0,
  unknown_server_error = -1,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  leader_not_available = 5,
  not_leader_or_follower = 6,  // message: the leader's node id, "" when unknown
  request_timed_out = 7,
  broker_not_available = 8,
  message_too_large = 10,
  invalid_topic = 17,
  not_enough_replicas = 19,
  invalid_required_acks = 21,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  policy_violation = 44,
  out_of_order_sequence = 45,
  invalid_producer_epoch = 47,
  storage_error = 56,
  unknown_producer_id = 59,
  reassignment_in_progress = 60,
  fenced_leader_epoch = 74,
};

const std::error_category& error_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), error_category()}; }
inline Status error(errc e, std::string message) {
  return Status(make_error_code(e), std::move(message));
}

// The kappa.v1.ErrorCode number for any Status: broker codes pass through;
// storage and format codes map to their Kafka equivalent (corruption and I/O
// errors to KAFKA_STORAGE_ERROR).
int api_error_code(const Status& status);

}  // namespace kappa::broker

template <>
struct std::is_error_code_enum<kappa::broker::errc> : std::true_type {};
