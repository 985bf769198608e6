// The shape every kappa.v1.Group handler shares: time the call, refuse it
// while the broker stops, hand it to the coordinator and finish the reactor
// with its answer (group errors travel in the response's error_code; the
// gRPC status is OK). Included only by api/group_*.cc.
#pragma once

#include "broker/api/services.h"
#include "broker/group/coordinator.h"

namespace kappa::broker {

// `start(reply)` passes the call on; `reply(Resp)` finishes it (once).
template <class Resp, class Start>
grpc::ServerUnaryReactor* group_call(partition_manager& pm, grpc::CallbackServerContext* ctx,
                                     api a, Resp* resp, Start start) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm, a);
  if (pm.shutting_down()) {
    timer.finish(reactor, grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
    return reactor;
  }
  start([reactor, resp, timer](Resp r) {
    *resp = std::move(r);
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
