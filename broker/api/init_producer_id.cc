// InitProducerId: a fresh producer id (epoch 0) from this broker's block of
// ids (blocks of 1000 come from the controller: controller::allocate_producer_ids), or the
// same id with its epoch bumped (fencing older instances).
#include <limits>

#include "broker/api/services.h"
#include "broker/errc.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* broker_service::InitProducerId(grpc::CallbackServerContext* ctx,
                                                         const v1::InitProducerIdRequest* req,
                                                         v1::InitProducerIdResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::init_producer_id);
  if (!req->transactional_id().empty()) {
    resp->set_error_code(v1::INVALID_REQUEST);
    resp->set_error_message("transactions are not supported yet; leave transactional_id empty");
    resp->set_producer_id(-1);
    resp->set_producer_epoch(-1);
    timer.finish(reactor, grpc::Status::OK);
    return reactor;
  }
  // A new id block waits for the controller: off the gRPC thread.
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    const bool bump = req->producer_id() >= 0 && req->producer_epoch() >= 0 &&
                      req->producer_epoch() < std::numeric_limits<int16_t>::max() - 1;
    if (bump) {
      resp->set_producer_id(req->producer_id());
      resp->set_producer_epoch(req->producer_epoch() + 1);
    } else {
      auto id = pm_.allocate_producer_id();
      if (!id.ok()) {
        resp->set_error_code(to_error_code(id.status()));
        resp->set_error_message(id.status().message());
        resp->set_producer_id(-1);
        resp->set_producer_epoch(-1);
      } else {
        resp->set_producer_id(*id);
        resp->set_producer_epoch(0);
      }
    }
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
