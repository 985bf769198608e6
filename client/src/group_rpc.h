// Calls to a consumer group's coordinator, shared by the consumer (group
// membership, commits) and the admin client (describe, delete, reset).
//
// coordinator_route finds the coordinator with FindCoordinator (asked of any
// broker), remembers it, and call() sends an RPC of the Group service there.
// When the answer is NOT_COORDINATOR (its hint is followed),
// COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, or the call
// fails at the transport level, the coordinator is looked up again and the
// call retried with backoff until the deadline. Any other error code is
// returned as the Status (the response is left as the broker sent it).
//
// Thread safety: a route may be shared; call() may run concurrently.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "client/src/backoff.h"
#include "client/src/connection_pool.h"
#include "client/src/metadata_cache.h"
#include "kappa/error.h"
#include "kappa/v1/group.grpc.pb.h"

namespace kappa::client {

class coordinator_route {
 public:
  coordinator_route(connection_pool& pool, metadata_cache& metadata, std::string group_id)
      : pool_(pool), metadata_(metadata), group_id_(std::move(group_id)) {}

  const std::string& group_id() const { return group_id_; }

  // The coordinator's address, looked up when unknown. "" when no broker
  // answered before the deadline (the Status says why).
  Result<std::string> address(int64_t deadline_ms) {
    {
      std::lock_guard g(mu_);
      if (!address_.empty()) return address_;
    }
    Status last = client_error(client_errc::coordinator_not_available, "no broker answered FindCoordinator");
    for (const auto& broker : metadata_.any_brokers()) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(std::max<int64_t>(1, deadline_ms - now_ms())));
      v1::FindCoordinatorRequest request;
      request.set_group_id(group_id_);
      v1::FindCoordinatorResponse response;
      grpc::Status status = pool_.group(broker)->FindCoordinator(&context, request, &response);
      if (!status.ok()) {
        last = from_grpc(status, "find coordinator of group '" + group_id_ + "' at " + broker);
        continue;
      }
      if (response.error_code() != v1::NONE) {
        last = from_code(response.error_code(), response.error_message(),
                         "find coordinator of group '" + group_id_ + "'");
        if (!is_retriable(last.code())) return last;
        continue;
      }
      std::lock_guard g(mu_);
      address_ = response.coordinator_address();
      coordinator_id_ = response.coordinator_id();
      return address_;
    }
    return last;
  }

  // Forget the coordinator (the next call looks it up again).
  void invalidate() {
    std::lock_guard g(mu_);
    address_.clear();
    coordinator_id_ = -1;
  }

  int32_t coordinator_id() const {
    std::lock_guard g(mu_);
    return coordinator_id_;
  }

  // rpc: grpc::Status(v1::Group::Stub*, grpc::ClientContext*, Response*).
  // Response has error_code(), error_message() and coordinator().
  template <typename Response, typename Rpc>
  Status call(const std::string& what, Response& response, int64_t deadline_ms, Rpc rpc) {
    const client_config& config = pool_.config();
    Status last = client_error(client_errc::timeout, what + ": deadline passed before the first attempt");
    for (int attempt = 1;; ++attempt) {
      auto address = this->address(deadline_ms);
      if (address.ok()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(std::max<int64_t>(1, deadline_ms - now_ms())));
        response.Clear();
        grpc::Status status = rpc(pool_.group(*address), &context, &response);
        if (!status.ok()) {
          last = from_grpc(status, what + " at " + *address);
          invalidate();
        } else if (response.error_code() == v1::NONE) {
          return Status();
        } else {
          last = from_code(response.error_code(), response.error_message(), what);
          if (response.error_code() == v1::NOT_COORDINATOR) {
            std::lock_guard g(mu_);
            address_ = response.coordinator().coordinator_address();
            coordinator_id_ = address_.empty() ? -1 : response.coordinator().coordinator_id();
          } else if (response.error_code() == v1::COORDINATOR_NOT_AVAILABLE) {
            invalidate();
          }
          if (!is_retriable(last.code())) return last;
        }
      } else {
        last = address.status();
        if (!is_retriable(last.code())) return last;
      }
      const int64_t wait = backoff_ms(config, attempt);
      if (now_ms() + wait >= deadline_ms) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
  }

 private:
  connection_pool& pool_;
  metadata_cache& metadata_;
  const std::string group_id_;
  mutable std::mutex mu_;
  std::string address_;
  int32_t coordinator_id_ = -1;
};

}  // namespace kappa::client
