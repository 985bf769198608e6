#include "broker/server.h"

#include <grpcpp/grpcpp.h>

#include "broker/api/services.h"
#include "broker/group/coordinator.h"
#include "storage/errc.h"

namespace kappa::broker {

struct server::impl {
  explicit impl(partition_manager& pm)
      : broker(pm), admin(pm), coordinator(group::coordinator::start(pm)), group(pm, *coordinator) {}
  broker_service broker;
  admin_service admin;
  std::unique_ptr<group::coordinator> coordinator;
  group_service group;
  std::unique_ptr<grpc::Server> grpc_server;
  int port = 0;
  bool stopped = false;
};

server::server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

server::~server() { shutdown(0); }

Result<std::unique_ptr<server>> server::start(partition_manager& pm) {
  auto i = std::make_unique<impl>(pm);
  grpc::ServerBuilder b;
  b.AddListeningPort(pm.config().listen, grpc::InsecureServerCredentials(), &i->port);
  // gRPC binds with SO_REUSEPORT by default: without this a second broker on
  // the same --listen port would start silently and take part of the traffic.
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  b.SetMaxReceiveMessageSize(int(std::min<size_t>(pm.config().max_request_bytes, INT32_MAX)));
  b.SetMaxSendMessageSize(-1);  // fetch responses are bounded by --fetch-max-bytes instead
  b.RegisterService(&i->broker);
  b.RegisterService(&i->admin);
  b.RegisterService(&i->group);
  i->grpc_server = b.BuildAndStart();
  if (!i->grpc_server || i->port == 0) {
    return storage::error(storage::errc::invalid_argument,
                          "cannot listen on " + pm.config().listen +
                              " (address in use or not local?)");
  }
  return std::unique_ptr<server>(new server(std::move(i)));
}

int server::port() const { return impl_->port; }

void server::shutdown(int64_t grace_ms) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // First the coordinator: its pending calls (waiting on appends) answer at
  // once, so the server's grace period is not spent on them, and its timers
  // stop before the partition manager drains its pools.
  impl_->coordinator->stop();
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(grace_ms));
  impl_->grpc_server->Wait();
}

}  // namespace kappa::broker
