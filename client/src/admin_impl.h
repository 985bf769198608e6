// The admin client's state, shared by the files that implement kappa::admin
// (admin.cc: topics, cluster, records; admin_groups.cc: consumer groups).
//
// Thread safety: the pool and the metadata cache are thread-safe; call() may
// run concurrently.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "client/src/backoff.h"
#include "client/src/connection_pool.h"
#include "client/src/metadata_cache.h"
#include "kappa/admin.h"

namespace kappa {

struct admin::impl {
  explicit impl(const client_config& config) : pool(config), metadata(pool) {}

  // Calls `rpc(stub, context)` on one broker after another, backing off
  // between rounds, until one answers at the gRPC level or
  // request_timeout_ms passes. Admin requests are answered by any broker.
  template <typename Rpc>
  Status call(const std::string& what, Rpc rpc) {
    const client_config& config = pool.config();
    const int64_t deadline = client::now_ms() + config.request_timeout_ms;
    Status last;
    for (int attempt = 1;; ++attempt) {
      const auto addresses = metadata.any_brokers();
      for (const auto& address : addresses) {
        grpc::ClientContext context;
        // With one address there is nothing else to try: wait (bounded by
        // the deadline) for the channel to connect rather than fail fast, so
        // a broker that is still starting is found as soon as it listens.
        context.set_wait_for_ready(addresses.size() == 1);
        context.set_deadline(
            std::chrono::system_clock::now() +
            std::chrono::milliseconds(std::max<int64_t>(1, deadline - client::now_ms())));
        grpc::Status status = rpc(pool.admin(address), &context);
        if (status.ok()) return Status();
        last = client::from_grpc(status, what + " at " + address);
        if (!is_retriable(last.code())) return last;
      }
      const int64_t wait = client::backoff_ms(config, attempt);
      if (client::now_ms() + wait >= deadline) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
  }

  client::connection_pool pool;
  client::metadata_cache metadata;
};

}  // namespace kappa
