#include "client/src/connection_pool.h"

#include <algorithm>

namespace kappa::client {

std::vector<std::string> parse_bootstrap(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  return out;
}

// An IPv4 literal goes straight to gRPC's ipv4: resolver; anything else
// ("localhost:9092", "dns:///...") is resolved as usual.
std::string channel_target(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || address.find("://") != std::string::npos) return address;
  int dots = 0;
  for (size_t i = 0; i < colon; ++i) {
    const char c = address[i];
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return address;
    }
  }
  return dots == 3 ? "ipv4:" + address : address;
}

connection_pool::connection_pool(const client_config& config)
    : config_(config), bootstrap_(parse_bootstrap(config.bootstrap)) {}

connection_pool::connection& connection_pool::get(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(address);
  if (it != connections_.end()) return it->second;
  grpc::ChannelArguments args;
  // Fetch responses carry up to fetch_max_bytes plus one batch; let them in.
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  const int reconnect_max = static_cast<int>(std::max<int64_t>(100, config_.reconnect_backoff_max_ms));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, reconnect_max));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, reconnect_max));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_max);
  connection c;
  c.channel = grpc::CreateCustomChannel(channel_target(address), grpc::InsecureChannelCredentials(), args);
  c.broker = v1::Broker::NewStub(c.channel);
  c.admin = v1::Admin::NewStub(c.channel);
  c.group = v1::Group::NewStub(c.channel);
  return connections_.emplace(address, std::move(c)).first->second;
}

v1::Broker::Stub* connection_pool::broker(const std::string& address) { return get(address).broker.get(); }
v1::Group::Stub* connection_pool::group(const std::string& address) { return get(address).group.get(); }
v1::Admin::Stub* connection_pool::admin(const std::string& address) { return get(address).admin.get(); }

Status from_grpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return Status();
  std::string message = what + ": " + status.error_message() + " (gRPC code " +
                        std::to_string(static_cast<int>(status.error_code())) + ")";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return client_error(client_errc::transport, std::move(message));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return client_error(client_errc::timeout, std::move(message));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return client_error(client_errc::record_list_too_large, std::move(message));
    default:
      return client_error(client_errc::invalid_request, std::move(message));
  }
}

Status from_code(v1::ErrorCode code, const std::string& message, const std::string& what) {
  if (code == v1::NONE) return Status();
  std::string text = what + ": " + v1::ErrorCode_Name(code);
  if (!message.empty()) text += ": " + message;
  return client_error(static_cast<client_errc>(static_cast<int>(code)), std::move(text));
}

}  // namespace kappa::client
