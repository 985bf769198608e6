// RebalanceLeaders: this broker hands the leadership of each partition it
// leads to its preferred replica when that replica is in sync. Runs on the
// admin pool: it waits (bounded) for the transfers.
#include "broker/api/services.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::RebalanceLeaders(grpc::CallbackServerContext* ctx,
                                                          const v1::RebalanceLeadersRequest* req,
                                                          v1::RebalanceLeadersResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  run_blocking(pm_, [this, reactor, req, resp] {
    const int64_t timeout = req->timeout_ms() > 0 ? std::min(req->timeout_ms(), 60000) : 10000;
    for (const auto& m : pm_.rebalance_leaders(timeout)) {
      auto* lm = resp->add_moves();
      lm->set_topic(m.topic);
      lm->set_partition(m.partition);
      lm->set_new_leader(m.to);
      lm->set_error_code(to_error_code(m.status));
      lm->set_error_message(m.status.ok() ? "" : m.status.message());
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
