// DescribeCluster: one broker, itself the controller.
#include "broker/api/services.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DescribeCluster(grpc::CallbackServerContext* ctx,
                                                         const v1::DescribeClusterRequest*,
                                                         v1::DescribeClusterResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::describe_cluster);
  const auto& c = pm_.config();
  resp->set_cluster_id(c.cluster_id);
  resp->set_controller_id(c.node_id);
  auto* b = resp->add_brokers();
  b->set_id(c.node_id);
  b->set_address(c.listen);
  b->set_alive(true);
  timer.finish(reactor, grpc::Status::OK);
  return reactor;
}

}  // namespace kappa::broker
