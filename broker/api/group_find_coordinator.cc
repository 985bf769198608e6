// FindCoordinator: any broker answers. It may create __consumer_offsets
// through the controller (blocking), so it runs on the admin pool.
#include "broker/api/group_call.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* group_service::FindCoordinator(grpc::CallbackServerContext* ctx,
                                                         const v1::FindCoordinatorRequest* req,
                                                         v1::FindCoordinatorResponse* resp) {
  return group_call(pm_, ctx, api::find_coordinator, resp, [&](auto reply) {
    run_blocking(pm_, [this, group = req->group_id(), reply] {
      reply(coordinator_.find_coordinator(group));
    });
  });
}

}  // namespace kappa::broker
