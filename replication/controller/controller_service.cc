#include "replication/controller/controller_service.h"

#include "replication/controller/controller_core.h"
#include "replication/controller/errc.h"
#include "replication/controller/wire.h"

namespace kappa::controller {

namespace {

constexpr int64_t kSubmitTimeoutMsDefault = 10000;
constexpr int64_t kSubmitTimeoutMsMax = 60000;

grpc::Status unavailable() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller not running");
}

}  // namespace

grpc::ServerUnaryReactor* controller_service::Submit(grpc::CallbackServerContext* ctx,
                                                     const pb::SubmitRequest* req,
                                                     pb::SubmitResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto c = core_.lock();
  if (!c || c->stopping()) {
    reactor->Finish(unavailable());
    return reactor;
  }
  auto fail = [resp, reactor](const Status& st, int32_t leader) {
    resp->set_error_code(api_error_code(st));
    resp->set_message(st.message());
    resp->set_leader_id(leader);
    resp->set_last_offset(-1);
    reactor->Finish(grpc::Status::OK);
  };
  if (req->cluster_id() != c->opts.cluster_id) {
    fail(error(errc::invalid_request, "cluster id " + req->cluster_id() + " is not " +
                                          c->opts.cluster_id),
         -1);
    return reactor;
  }
  auto cmd = wire::command_from_proto(*req);
  if (!cmd.ok()) {
    fail(cmd.status(), -1);
    return reactor;
  }
  int64_t timeout_ms = req->timeout_ms() > 0 ? req->timeout_ms() : kSubmitTimeoutMsDefault;
  timeout_ms = std::min(timeout_ms, kSubmitTimeoutMsMax);
  const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  c->strand([c, cmd = std::move(*cmd), deadline, resp, reactor, fail]() mutable {
    if (c->stopping()) return fail(error(errc::not_controller, "controller shutting down"), -1);
    c->submit_local(std::move(cmd), deadline, [c, resp, reactor, fail](Result<submit_result> r) {
      if (!r.ok()) return fail(r.status(), c->known_leader());
      resp->set_error_code(0);
      resp->set_leader_id(c->opts.self);
      resp->set_last_offset(r->last_offset);
      resp->set_producer_id_start(r->producer_id_start);
      reactor->Finish(grpc::Status::OK);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* controller_service::Heartbeat(grpc::CallbackServerContext* ctx,
                                                        const pb::HeartbeatRequest* req,
                                                        pb::HeartbeatResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto c = core_.lock();
  if (!c || c->stopping()) {
    reactor->Finish(unavailable());
    return reactor;
  }
  c->strand([c, req, resp, reactor] {
    if (c->stopping()) return reactor->Finish(unavailable());
    c->handle_heartbeat(*req, resp);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* controller_service::FetchMetadata(grpc::CallbackServerContext* ctx,
                                                            const pb::FetchMetadataRequest* req,
                                                            pb::FetchMetadataResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto c = core_.lock();
  if (!c || c->stopping()) {
    reactor->Finish(unavailable());
    return reactor;
  }
  if (!c->is_voter) {
    resp->set_error_code(static_cast<int>(errc::not_controller));
    resp->set_message("not a controller voter");
    resp->set_controller_leader(-1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  if (req->cluster_id() != c->opts.cluster_id) {
    resp->set_error_code(static_cast<int>(errc::invalid_request));
    resp->set_message("cluster id " + req->cluster_id() + " is not " + c->opts.cluster_id);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  c->strand([c, req, resp, reactor] {
    if (c->stopping()) return reactor->Finish(unavailable());
    const int32_t wait_ms = std::clamp(req->max_wait_ms(), 0, kFetchWaitMsMax);
    if (req->from_offset() < c->applied_end || wait_ms == 0) {
      c->answer_fetch(*req, resp);
      return reactor->Finish(grpc::Status::OK);
    }
    {
      std::lock_guard lk(c->mu);
      if (!c->stopped && c->fetch_waiters.size() < kFetchWaitersMax) {
        c->fetch_waiters.push_back(
            {reactor, req, resp, clock::now() + std::chrono::milliseconds(wait_ms)});
        return;
      }
    }
    // Stopping, or too many held polls: answer now (empty), the fetcher
    // backs off.
    c->answer_fetch(*req, resp);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::controller
