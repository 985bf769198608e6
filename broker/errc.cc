#include "broker/errc.h"

#include "proto/format/errc.h"
#include "storage/errc.h"

namespace kappa::broker {
namespace {

class category : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.broker"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok: return "ok";
      case errc::unknown_server_error: return "unknown server error";
      case errc::offset_out_of_range: return "offset out of range";
      case errc::corrupt_message: return "corrupt message";
      case errc::unknown_topic_or_partition: return "unknown topic or partition";
      case errc::leader_not_available: return "leader not available";
      case errc::not_leader_or_follower: return "not leader or follower";
      case errc::request_timed_out: return "request timed out";
      case errc::broker_not_available: return "broker not available";
      case errc::not_enough_replicas: return "not enough replicas";
      case errc::not_controller: return "not controller";
      case errc::reassignment_in_progress: return "reassignment in progress";
      case errc::fenced_leader_epoch: return "fenced leader epoch";
      case errc::message_too_large: return "message too large";
      case errc::invalid_topic: return "invalid topic";
      case errc::invalid_required_acks: return "invalid required acks";
      case errc::topic_already_exists: return "topic already exists";
      case errc::invalid_partitions: return "invalid partitions";
      case errc::invalid_replication_factor: return "invalid replication factor";
      case errc::invalid_config: return "invalid config";
      case errc::invalid_request: return "invalid request";
      case errc::policy_violation: return "policy violation";
      case errc::out_of_order_sequence: return "out of order sequence number";
      case errc::invalid_producer_epoch: return "invalid producer epoch";
      case errc::storage_error: return "storage error";
      case errc::unknown_producer_id: return "unknown producer id";
    }
    return "broker error " + std::to_string(c);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category c;
  return c;
}

int api_error_code(const Status& st) {
  if (st.ok()) return 0;
  const auto code = st.code();
  if (code.category() == error_category()) return code.value();
  if (code.category() == format::error_category()) {
    return code == format::errc::batch_too_large ? 10 : 2;  // MESSAGE_TOO_LARGE : CORRUPT_MESSAGE
  }
  if (code.category() == storage::error_category()) {
    switch (static_cast<storage::errc>(code.value())) {
      case storage::errc::offset_out_of_range: return 1;
      case storage::errc::invalid_batch: return 2;
      case storage::errc::batch_too_large: return 10;
      case storage::errc::not_found: return 3;
      case storage::errc::invalid_argument: return 42;
      default: return 56;  // KAFKA_STORAGE_ERROR
    }
  }
  return 56;  // OS errors: the disk
}

}  // namespace kappa::broker
