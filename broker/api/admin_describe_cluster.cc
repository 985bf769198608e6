// DescribeCluster: the registered brokers with their liveness and the
// controller leader, from the controller's view.
#include "broker/api/services.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DescribeCluster(grpc::CallbackServerContext* ctx,
                                                         const v1::DescribeClusterRequest*,
                                                         v1::DescribeClusterResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::describe_cluster);
  const auto v = pm_.view();
  resp->set_cluster_id(pm_.config().cluster_id);
  resp->set_controller_id(v.controller_leader);
  for (const auto& b : pm_.brokers(v)) {
    auto* bi = resp->add_brokers();
    bi->set_id(b.id);
    bi->set_address(b.address);
    bi->set_alive(b.live);
  }
  timer.finish(reactor, grpc::Status::OK);
  return reactor;
}

}  // namespace kappa::broker
