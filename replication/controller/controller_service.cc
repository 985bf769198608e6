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

// Claims and finishes at once (the call was never handed out).
grpc::ServerUnaryReactor* finish_now(std::shared_ptr<held_call> call, grpc::Status s) {
  if (call->claim()) call->finish(std::move(s));
  return call.get();
}

}  // namespace

grpc::ServerUnaryReactor* controller_service::Submit(grpc::CallbackServerContext*,
                                                     const pb::SubmitRequest* req,
                                                     pb::SubmitResponse* resp) {
  auto call = held_call::make();
  auto c = core_.lock();
  if (!c || c->stopping()) return finish_now(call, unavailable());
  // Fills the response; the caller has claimed the call.
  auto fail = [resp](const Status& st, int32_t leader) {
    resp->set_error_code(api_error_code(st));
    resp->set_message(st.message());
    resp->set_leader_id(leader);
    resp->set_last_offset(-1);
  };
  if (req->cluster_id() != c->opts.cluster_id) {
    call->claim();
    fail(error(errc::invalid_request,
               "cluster id " + req->cluster_id() + " is not " + c->opts.cluster_id),
         -1);
    call->finish(grpc::Status::OK);
    return call.get();
  }
  auto cmd = wire::command_from_proto(*req);
  if (!cmd.ok()) {
    call->claim();
    fail(cmd.status(), -1);
    call->finish(grpc::Status::OK);
    return call.get();
  }
  int64_t timeout_ms = req->timeout_ms() > 0 ? req->timeout_ms() : kSubmitTimeoutMsDefault;
  timeout_ms = std::min(timeout_ms, kSubmitTimeoutMsMax);
  const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  c->strand([c, cmd = std::move(*cmd), deadline, resp, call, fail]() mutable {
    if (c->stopping()) {
      if (!call->claim()) return;
      fail(error(errc::not_controller, "controller shutting down"), -1);
      return call->finish(grpc::Status::OK);
    }
    c->submit_local(std::move(cmd), deadline, [c, resp, call, fail](Result<submit_result> r) {
      if (!call->claim()) return;  // the caller went away
      if (!r.ok()) {
        fail(r.status(), c->known_leader());
      } else {
        resp->set_error_code(0);
        resp->set_leader_id(c->opts.self);
        resp->set_last_offset(r->last_offset);
        resp->set_producer_id_start(r->producer_id_start);
      }
      call->finish(grpc::Status::OK);
    });
  });
  return call.get();
}

grpc::ServerUnaryReactor* controller_service::Heartbeat(grpc::CallbackServerContext*,
                                                        const pb::HeartbeatRequest* req,
                                                        pb::HeartbeatResponse* resp) {
  auto call = held_call::make();
  auto c = core_.lock();
  if (!c || c->stopping()) return finish_now(call, unavailable());
  c->strand([c, req, resp, call] {
    if (!call->claim()) return;
    if (c->stopping()) return call->finish(unavailable());
    c->handle_heartbeat(*req, resp);
    call->finish(grpc::Status::OK);
  });
  return call.get();
}

grpc::ServerUnaryReactor* controller_service::FetchMetadata(grpc::CallbackServerContext*,
                                                            const pb::FetchMetadataRequest* req,
                                                            pb::FetchMetadataResponse* resp) {
  auto call = held_call::make();
  auto c = core_.lock();
  if (!c || c->stopping()) return finish_now(call, unavailable());
  if (!c->is_voter || req->cluster_id() != c->opts.cluster_id) {
    call->claim();
    if (!c->is_voter) {
      resp->set_error_code(static_cast<int>(errc::not_controller));
      resp->set_message("not a controller voter");
      resp->set_controller_leader(-1);
    } else {
      resp->set_error_code(static_cast<int>(errc::invalid_request));
      resp->set_message("cluster id " + req->cluster_id() + " is not " + c->opts.cluster_id);
    }
    call->finish(grpc::Status::OK);
    return call.get();
  }
  c->strand([c, req, resp, call] {
    if (c->stopping()) {
      if (call->claim()) call->finish(unavailable());
      return;
    }
    const int32_t wait_ms = std::clamp(req->max_wait_ms(), 0, kFetchWaitMsMax);
    if (req->from_offset() < c->applied_end || wait_ms == 0) {
      if (!call->claim()) return;
      c->answer_fetch(*req, resp);
      return call->finish(grpc::Status::OK);
    }
    {
      std::lock_guard lk(c->mu);
      if (c->stopped) {
        if (call->claim()) call->finish(unavailable());
        return;
      }
      if (c->fetch_waiters.size() < kFetchWaitersMax) {
        c->fetch_waiters.push_back(
            {call, req, resp, clock::now() + std::chrono::milliseconds(wait_ms)});
        return;
      }
    }
    // Too many held polls: answer now (empty); the fetcher backs off.
    if (!call->claim()) return;
    c->answer_fetch(*req, resp);
    call->finish(grpc::Status::OK);
  });
  return call.get();
}

}  // namespace kappa::controller
