// ReassignPartition: records the new replica set as the partition's target
// through the controller (the partition leader then moves the membership).
// Runs on the admin pool: it waits for the controller's commit.
#include "broker/api/services.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::ReassignPartition(grpc::CallbackServerContext* ctx,
                                                           const v1::ReassignPartitionRequest* req,
                                                           v1::ReassignPartitionResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  run_blocking(pm_, [this, reactor, req, resp] {
    Status st = pm_.reassign(req->topic(), req->partition(),
                             std::vector<int32_t>(req->replicas().begin(), req->replicas().end()));
    resp->set_error_code(to_error_code(st));
    resp->set_error_message(st.ok() ? "" : st.message());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
