// Heartbeat: join, stay, leave (KIP-848's ConsumerGroupHeartbeat). The
// member's host is the peer address gRPC saw.
#include <string_view>

#include "broker/api/group_call.h"

namespace kappa::broker {
namespace {

// "ipv4:127.0.0.1:53422" -> "127.0.0.1:53422"; "ipv6:[::1]:5" -> "[::1]:5".
std::string peer_host(const std::string& peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (std::string_view(peer).starts_with(scheme)) return peer.substr(scheme.size());
  }
  return peer;
}

}  // namespace

grpc::ServerUnaryReactor* group_service::Heartbeat(grpc::CallbackServerContext* ctx,
                                                   const v1::GroupHeartbeatRequest* req,
                                                   v1::GroupHeartbeatResponse* resp) {
  return group_call(pm_, ctx, api::group_heartbeat, resp, [&](auto reply) {
    coordinator_.heartbeat(*req, peer_host(ctx->peer()), reply);
  });
}

}  // namespace kappa::broker
