// Metadata: the one broker (itself the controller and every partition's
// leader, at leader epoch 0) and the topics asked for (all when none).
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

void describe(partition_manager& pm, const v1::MetadataRequest& req, v1::MetadataResponse& resp) {
  const auto& c = pm.config();
  auto* b = resp.add_brokers();
  b->set_id(c.node_id);
  b->set_address(c.listen);
  b->set_alive(true);
  resp.set_controller_id(c.node_id);
  resp.set_cluster_id(c.cluster_id);
  std::vector<std::string> names(req.topics().begin(), req.topics().end());
  if (names.empty()) {
    for (const auto& t : pm.topics()) names.push_back(t.name);
  }
  for (const auto& name : names) {
    auto* tm = resp.add_topics();
    tm->set_name(name);
    tm->set_is_internal(is_internal_topic(name));
    Status st = validate_topic_name(name);
    auto info = st.ok() ? pm.topic(name) : std::nullopt;
    if (st.ok() && !info) st = error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
    if (!st.ok()) {
      tm->set_error_code(to_error_code(st));
      tm->set_error_message(st.message());
      continue;
    }
    for (int32_t p = 0; p < info->partitions; ++p) {
      auto* pm_ = tm->add_partitions();
      pm_->set_partition(p);
      pm_->set_leader_id(c.node_id);
      pm_->set_leader_epoch(0);
      pm_->add_replicas(c.node_id);
      pm_->add_in_sync_replicas(c.node_id);
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
  // Auto-creation writes metadata (fsync): off the gRPC thread.
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    for (const auto& n : req->topics()) (void)pm_.auto_create(n);
    describe(pm_, *req, *resp);
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
