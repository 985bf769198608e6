// The kappa.internal.v1.Controller gRPC service of one broker (callback
// API). Handlers run on gRPC threads and only hop onto the controller's
// strand; every call is finished exactly once (also when the controller
// stops). Private to replication/controller/.
#pragma once

#include <memory>

#include "kappa/internal/v1/controller.grpc.pb.h"

namespace kappa::controller {

struct core;

class controller_service final : public ::kappa::internal::v1::Controller::CallbackService {
 public:
  // The core owns the service: hold it weakly.
  explicit controller_service(std::weak_ptr<core> c) : core_(std::move(c)) {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx,
                                   const ::kappa::internal::v1::SubmitRequest* req,
                                   ::kappa::internal::v1::SubmitResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const ::kappa::internal::v1::HeartbeatRequest* req,
                                      ::kappa::internal::v1::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* FetchMetadata(
      grpc::CallbackServerContext* ctx, const ::kappa::internal::v1::FetchMetadataRequest* req,
      ::kappa::internal::v1::FetchMetadataResponse* resp) override;

 private:
  std::weak_ptr<core> core_;
};

}  // namespace kappa::controller
