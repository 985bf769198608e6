// One gRPC channel per broker address, shared by every request to it (HTTP/2
// multiplexes the calls), with stubs for its services. gRPC reconnects a
// channel by itself; its reconnect backoff is bounded by the client config so
// a restarted broker is picked up within about reconnect_backoff_max_ms.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kappa/v1/admin.grpc.pb.h"
#include "kappa/v1/broker.grpc.pb.h"
#include "kappa/v1/group.grpc.pb.h"
#include "kappa/client_config.h"
#include "kappa/error.h"

namespace kappa::client {

namespace v1 = ::kappa::v1;

class connection_pool {
 public:
  explicit connection_pool(const client_config& config);

  // Thread-safe; the stubs live as long as the pool.
  v1::Broker::Stub* broker(const std::string& address);
  v1::Admin::Stub* admin(const std::string& address);
  v1::Group::Stub* group(const std::string& address);

  // The bootstrap addresses, parsed from the comma-separated list.
  const std::vector<std::string>& bootstrap() const { return bootstrap_; }
  const client_config& config() const { return config_; }

 private:
  struct connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Broker::Stub> broker;
    std::unique_ptr<v1::Admin::Stub> admin;
    std::unique_ptr<v1::Group::Stub> group;
  };
  connection& get(const std::string& address);

  client_config config_;
  std::vector<std::string> bootstrap_;
  std::mutex mu_;
  std::map<std::string, connection> connections_;  // bounded by the cluster's broker count
};

// A gRPC status as a libkappa Status: UNAVAILABLE and friends become
// transport (retriable), DEADLINE_EXCEEDED timeout, the rest invalid_request.
Status from_grpc(const grpc::Status& status, const std::string& what);
// A per-partition/per-topic error code with its message.
Status from_code(v1::ErrorCode code, const std::string& message, const std::string& what);

// Splits "a:1,b:2" (spaces ignored); empty entries dropped.
std::vector<std::string> parse_bootstrap(const std::string& list);

}  // namespace kappa::client
