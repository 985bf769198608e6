// Helpers shared by the API handlers.
#include "broker/api/leader_hint.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/runtime.h"

namespace kappa::broker {

void call_timer::record(const grpc::Status& st) const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  pm_.stats().request(api_, s, int(st.error_code()));
}

void call_timer::finish(grpc::ServerUnaryReactor* r, const grpc::Status& st) const {
  record(st);
  r->Finish(st);
}

v1::ErrorCode to_error_code(const Status& st) {
  const int c = api_error_code(st);
  return v1::ErrorCode_IsValid(c) ? v1::ErrorCode(c) : v1::UNKNOWN_SERVER_ERROR;
}

void set_leader_hint(partition_manager& pm, const std::string& topic, int32_t p,
                     v1::LeaderHint* out) {
  const partition_manager::leader_hint h = pm.leader_of(topic, p);
  out->set_leader_id(h.id);
  out->set_leader_address(h.address);
  out->set_leader_epoch(h.epoch);
}

Status check_leader(partition_manager& pm, const std::string& topic, int32_t p,
                    const partition* local) {
  if (local && local->is_leader()) return Status();
  const std::string name = topic + "-" + std::to_string(p);
  const partition_manager::leader_hint h = pm.leader_of(topic, p);
  const std::string me = "broker " + std::to_string(pm.config().node_id);
  if (h.id < 0 || h.id == pm.config().node_id) {
    // Unknown, or this broker's stale belief: an election is under way.
    return error(errc::leader_not_available,
                 "no leader of " + name + " is known to " + me + " (an election may be running)");
  }
  return error(errc::not_leader_or_follower,
               me + " does not lead " + name + "; the leader is broker " + std::to_string(h.id) +
                   (h.address.empty() ? std::string() : " at " + h.address) + " (epoch " +
                   std::to_string(h.epoch) + ")");
}

Status missing_replica(partition_manager& pm, const std::string& topic, int32_t p) {
  auto t = pm.topic(topic);
  if (t && p >= 0 && p < t->partitions) return check_leader(pm, topic, p, nullptr);
  if (!t) return error(errc::unknown_topic_or_partition, "unknown topic '" + topic + "'");
  return error(errc::unknown_topic_or_partition,
               "topic '" + topic + "' has no partition " + std::to_string(p));
}

bool wants_leader_hint(const Status& st) {
  return st.code() == errc::not_leader_or_follower || st.code() == errc::leader_not_available;
}

void run_blocking(partition_manager& pm, std::function<void()> work) {
  asio::post(pm.rt().admin, std::move(work));
}

}  // namespace kappa::broker
