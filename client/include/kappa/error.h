// libkappa errors. Every fallible call returns kappa::Status or
// kappa::Result<T> (proto/format/result.h); nothing throws out of the library.
//
// A Status from libkappa carries a std::error_code in the "kappa.client"
// category whose value is a client_errc: the broker's per-partition codes
// keep Kafka's numbers (kappa.v1.ErrorCode), the client's own failures sit
// at 1000 and above, outside Kafka's range.
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa {

enum class client_errc : int {
  // Broker codes, numbered as Kafka numbers them.
  unknown_server_error = -1,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  broker_not_available = 8,
  message_too_large = 10,
  offset_metadata_too_large = 12,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  invalid_timestamp = 32,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  kafka_storage_error = 56,
  unknown_producer_id = 59,
  non_empty_group = 68,
  group_id_not_found = 69,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  group_subscribed_to_topic = 86,
  fenced_leader_epoch = 74,
  unknown_leader_epoch = 75,
  unsupported_compression_type = 76,
  fenced_member_epoch = 110,
  unreleased_instance_id = 111,
  unsupported_assignor = 112,
  stale_member_epoch = 113,

  // Client-side failures.
  timeout = 1000,           // a deadline (delivery, request, max_block_ms) passed
  queue_full = 1001,        // the producer's buffer stayed full for max_block_ms
  transport = 1002,         // the broker could not be reached or the call broke
  closed = 1003,            // the producer/consumer was closed
  invalid_argument = 1004,  // the caller passed something unusable
  no_offset = 1005,         // no position and auto_offset_reset = none
};

const std::error_category& client_category();
inline std::error_code make_error_code(client_errc e) { return {static_cast<int>(e), client_category()}; }
inline Status client_error(client_errc e, std::string message) {
  return Status(make_error_code(e), std::move(message));
}

// True when the error is transient and the same request may succeed later
// (leader moved, broker unreachable, timed out on the broker or waiting for
// it...). libkappa already retries these internally until its deadlines pass.
bool is_retriable(std::error_code code);

}  // namespace kappa

template <>
struct std::is_error_code_enum<kappa::client_errc> : std::true_type {};
