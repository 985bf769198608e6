// Metadata: the brokers (client addresses, liveness) and the controller
// leader from the controller's view, and per partition the leader, epoch,
// replicas and in-sync replicas (the local replica's Raft state when hosted
// here, else the controller's leader table).
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

void describe(partition_manager& pm, const v1::MetadataRequest& req, v1::MetadataResponse& resp) {
  const auto& c = pm.config();
  const auto v = pm.view();
  for (const auto& b : pm.brokers(v)) {
    auto* bi = resp.add_brokers();
    bi->set_id(b.id);
    bi->set_address(b.address);
    bi->set_alive(b.live);
  }
  resp.set_controller_id(v.controller_leader);
  resp.set_cluster_id(c.cluster_id);
  std::vector<std::string> names(req.topics().begin(), req.topics().end());
  if (names.empty()) {
    for (const auto& [name, _] : v.image->topics) names.push_back(name);
  }
  for (const auto& name : names) {
    auto* tm = resp.add_topics();
    tm->set_name(name);
    tm->set_is_internal(is_internal_topic(name));
    Status st = validate_topic_name(name);
    auto it = v.image->topics.find(name);
    if (st.ok() && it == v.image->topics.end()) {
      st = error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
    }
    if (!st.ok()) {
      tm->set_error_code(to_error_code(st));
      tm->set_error_message(st.message());
      continue;
    }
    for (int32_t p = 0; p < int32_t(it->second.partitions.size()); ++p) {
      const auto s = pm.state_of(v, name, p);
      auto* pmd = tm->add_partitions();
      pmd->set_partition(p);
      pmd->set_leader_id(s.leader);
      pmd->set_leader_epoch(s.epoch);
      for (int32_t r : s.replicas) pmd->add_replicas(r);
      for (int32_t r : s.in_sync) pmd->add_in_sync_replicas(r);
    }
  }
}

}  // namespace

grpc::ServerUnaryReactor* broker_service::Metadata(grpc::CallbackServerContext* ctx,
                                                   const v1::MetadataRequest* req,
                                                   v1::MetadataResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::metadata);
  bool create = false;
  if (pm_.config().auto_create_topics) {
    for (const auto& n : req->topics()) create |= validate_topic_name(n).ok() && !pm_.topic(n);
  }
  if (!create) {
    describe(pm_, *req, *resp);
    timer.finish(reactor, grpc::Status::OK);
    return reactor;
  }
  // Auto-creation goes through the controller (waits for commit): off the
  // gRPC thread.
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    for (const auto& n : req->topics()) (void)pm_.auto_create(n);
    describe(pm_, *req, *resp);
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
