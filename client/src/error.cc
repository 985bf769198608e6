#include "kappa/error.h"

namespace kappa {
namespace {

class client_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.client"; }
  std::string message(int value) const override {
    switch (static_cast<client_errc>(value)) {
      case client_errc::unknown_server_error: return "unknown server error";
      case client_errc::offset_out_of_range: return "offset out of range";
      case client_errc::corrupt_message: return "corrupt message";
      case client_errc::unknown_topic_or_partition: return "unknown topic or partition";
      case client_errc::invalid_fetch_size: return "invalid fetch size";
      case client_errc::leader_not_available: return "leader not available";
      case client_errc::not_leader_or_follower: return "not leader or follower";
      case client_errc::request_timed_out: return "request timed out";
      case client_errc::broker_not_available: return "broker not available";
      case client_errc::message_too_large: return "message too large";
      case client_errc::offset_metadata_too_large: return "offset metadata too large";
      case client_errc::coordinator_load_in_progress: return "coordinator load in progress";
      case client_errc::coordinator_not_available: return "coordinator not available";
      case client_errc::not_coordinator: return "not coordinator";
      case client_errc::invalid_topic: return "invalid topic";
      case client_errc::record_list_too_large: return "record list too large";
      case client_errc::not_enough_replicas: return "not enough replicas";
      case client_errc::not_enough_replicas_after_append: return "not enough replicas after append";
      case client_errc::invalid_required_acks: return "invalid required acks";
      case client_errc::invalid_group_id: return "invalid group id";
      case client_errc::unknown_member_id: return "unknown member id";
      case client_errc::invalid_session_timeout: return "invalid session timeout";
      case client_errc::invalid_timestamp: return "invalid timestamp";
      case client_errc::topic_already_exists: return "topic already exists";
      case client_errc::invalid_partitions: return "invalid partitions";
      case client_errc::invalid_replication_factor: return "invalid replication factor";
      case client_errc::invalid_config: return "invalid config";
      case client_errc::not_controller: return "not controller";
      case client_errc::invalid_request: return "invalid request";
      case client_errc::policy_violation: return "policy violation";
      case client_errc::out_of_order_sequence_number: return "out of order sequence number";
      case client_errc::duplicate_sequence_number: return "duplicate sequence number";
      case client_errc::invalid_producer_epoch: return "invalid producer epoch";
      case client_errc::kafka_storage_error: return "storage error";
      case client_errc::unknown_producer_id: return "unknown producer id";
      case client_errc::non_empty_group: return "group has active members";
      case client_errc::group_id_not_found: return "group not found";
      case client_errc::group_max_size_reached: return "group max size reached";
      case client_errc::fenced_instance_id: return "fenced instance id";
      case client_errc::group_subscribed_to_topic: return "group subscribed to topic";
      case client_errc::fenced_member_epoch: return "fenced member epoch";
      case client_errc::unreleased_instance_id: return "unreleased instance id";
      case client_errc::unsupported_assignor: return "unsupported assignor";
      case client_errc::stale_member_epoch: return "stale member epoch";
      case client_errc::fenced_leader_epoch: return "fenced leader epoch";
      case client_errc::unknown_leader_epoch: return "unknown leader epoch";
      case client_errc::unsupported_compression_type: return "unsupported compression type";
      case client_errc::timeout: return "timed out";
      case client_errc::queue_full: return "producer buffer full";
      case client_errc::transport: return "transport failure";
      case client_errc::closed: return "closed";
      case client_errc::invalid_argument: return "invalid argument";
      case client_errc::no_offset: return "no offset and auto_offset_reset is none";
    }
    return "kafka error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& client_category() {
  static const client_category_impl category;
  return category;
}

bool is_retriable(std::error_code code) {
  if (code.category() != client_category()) return false;
  switch (static_cast<client_errc>(code.value())) {
    case client_errc::unknown_topic_or_partition:  // may be a topic being created
    case client_errc::leader_not_available:
    case client_errc::not_leader_or_follower:
    case client_errc::request_timed_out:
    case client_errc::broker_not_available:
    case client_errc::not_enough_replicas:
    case client_errc::not_enough_replicas_after_append:
    case client_errc::not_coordinator:
    case client_errc::coordinator_not_available:
    case client_errc::coordinator_load_in_progress:
    case client_errc::not_controller:
    case client_errc::kafka_storage_error:
    case client_errc::fenced_leader_epoch:
    case client_errc::unknown_leader_epoch:
    case client_errc::transport:
    case client_errc::timeout:  // an RPC deadline: a hung or vanished broker
      return true;
    default:
      return false;
  }
}

}  // namespace kappa
