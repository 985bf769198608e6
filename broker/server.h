// The gRPC server of kappad: the Broker and Admin services on --listen,
// with --max-request-bytes as the max receive message size (larger requests
// fail with RESOURCE_EXHAUSTED before any handler runs). gRPC stays in
// server.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "broker/partition_manager.h"
#include "proto/format/result.h"

namespace kappa::broker {

class server {
 public:
  // Fails when the address cannot be bound.
  static Result<std::unique_ptr<server>> start(partition_manager& pm);
  ~server();

  int port() const;
  // Stops accepting calls, lets in-flight ones finish for up to
  // `grace_ms`, then cancels the rest. Returns when every call is done.
  void shutdown(int64_t grace_ms);

  struct impl;

 private:
  explicit server(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::broker
