// What every broker does towards the controller leader: forwarding
// submits, the heartbeat loop, and (non-voters) following the log through
// FetchMetadata.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <spdlog/spdlog.h>

#include "replication/controller/controller_core.h"
#include "replication/controller/errc.h"
#include "replication/controller/wire.h"

namespace kappa::controller {

namespace {
constexpr auto kHeartbeatRpcTimeout = std::chrono::milliseconds(1000);
constexpr int32_t kFetchWaitMs = 500;
constexpr auto kFetchRpcSlack = std::chrono::milliseconds(2000);

// gRPC takes system_clock deadlines only.
std::chrono::system_clock::time_point grpc_deadline(clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - clock::now());
}

Status shutting_down() {
  return error(errc::not_controller, "controller shutting down");
}
}  // namespace

std::shared_ptr<pb::Controller::Stub> core::stub(const std::string& address) {
  std::lock_guard lk(mu);
  auto& s = stubs[address];
  if (!s)
    s = pb::Controller::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  return s;
}

bool core::begin_call(grpc::ClientContext* ctx) {
  std::lock_guard lk(mu);
  if (stopped) return false;
  client_calls.insert(ctx);
  return true;
}

void core::end_call(grpc::ClientContext* ctx) {
  std::lock_guard lk(mu);
  client_calls.erase(ctx);
  inflight_cv.notify_all();
}

void core::wait_applied(int64_t offset, clock::time_point deadline, std::function<void()> done) {
  if (offset < applied_end) return done();
  apply_waiters.push_back({offset, deadline, std::move(done)});
}

void core::submit_anywhere(command cmd, clock::time_point deadline,
                           std::function<void(Result<submit_result>)> done) {
  if (stopping()) return done(shutting_down());
  if (group && group->is_leader()) {
    // Leadership may move while we plan: a not_controller answer from
    // ourselves is retried like one from a remote leader.
    submit_local(cmd, deadline, [this, cmd, deadline, done](Result<submit_result> r) mutable {
      if (!r.ok() && r.status().code() == errc::not_controller && clock::now() < deadline &&
          !stopping()) {
        after(kRetryDelay,
              [this, cmd = std::move(cmd), deadline, done = std::move(done)]() mutable {
                submit_anywhere(std::move(cmd), deadline, std::move(done));
              });
        return;
      }
      done(std::move(r));
    });
    return;
  }
  auto req = std::make_shared<pb::SubmitRequest>();
  wire::to_proto(cmd, req.get());
  req->set_cluster_id(opts.cluster_id);
  forward(std::move(req), deadline, std::move(done), Status());
}

void core::forward(std::shared_ptr<pb::SubmitRequest> req, clock::time_point deadline,
                   std::function<void(Result<submit_result>)> done, Status last_error) {
  if (stopping()) return done(shutting_down());
  const auto now = clock::now();
  if (now >= deadline) {
    return done(error(errc::request_timed_out,
                      "no controller leader answered by the deadline" +
                          (last_error.ok() ? std::string() : ": " + last_error.message())));
  }
  auto retry_later = [this, req, deadline, done](Status why) mutable {
    after(kRetryDelay, [this, req, deadline, done = std::move(done), why]() mutable {
      forward(std::move(req), deadline, std::move(done), why);
    });
  };
  if (group && group->is_leader()) {
    auto cmd = wire::command_from_proto(*req);
    if (!cmd.ok()) return done(cmd.status());
    return submit_anywhere(std::move(*cmd), deadline, std::move(done));
  }
  int32_t target = -1;
  const std::string address = next_target(&target);
  if (address.empty() || target == opts.self) {
    return retry_later(error(errc::not_controller, "no controller leader known"));
  }
  struct call {
    grpc::ClientContext ctx;
    pb::SubmitResponse resp;
  };
  auto c = std::make_shared<call>();
  c->ctx.set_deadline(grpc_deadline(deadline));
  req->set_timeout_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
  if (!begin_call(&c->ctx)) return done(shutting_down());
  auto self = shared_from_this();
  stub(address)->async()->Submit(
      &c->ctx, req.get(), &c->resp, [self, c, req, deadline, done, target](grpc::Status s) mutable {
        self->end_call(&c->ctx);
        self->strand([self, c, req, deadline, done = std::move(done), target, s]() mutable {
          if (self->stopping()) return done(shutting_down());
          if (!s.ok()) {
            if (self->leader_hint == target) self->leader_hint = -1;
            Status why = error(errc::not_controller,
                               "broker " + std::to_string(target) + ": " + s.error_message());
            self->after(kRetryDelay, [self, req, deadline, done = std::move(done), why]() mutable {
              self->forward(std::move(req), deadline, std::move(done), why);
            });
            return;
          }
          const auto& r = c->resp;
          if (r.error_code() == static_cast<int>(errc::not_controller)) {
            Status why = error(errc::not_controller, "broker " + std::to_string(target) +
                                                         " is not the controller leader");
            const bool new_hint = r.leader_id() > 0 && r.leader_id() != target;
            self->leader_hint = new_hint ? r.leader_id() : -1;
            if (new_hint) return self->forward(std::move(req), deadline, std::move(done), why);
            self->after(kRetryDelay, [self, req, deadline, done = std::move(done), why]() mutable {
              self->forward(std::move(req), deadline, std::move(done), why);
            });
            return;
          }
          if (r.error_code() != 0) return done(from_api_error_code(r.error_code(), r.message()));
          self->leader_hint = target;
          submit_result result{r.last_offset(), r.producer_id_start()};
          // The contract: answered once the records are applied here too.
          self->wait_applied(result.last_offset, deadline,
                             [done = std::move(done), result]() mutable { done(result); });
        });
      });
}

void core::take_heartbeat_answer(const pb::HeartbeatResponse& resp) {
  if (resp.controller_leader() > 0) leader_hint = resp.controller_leader();
  std::lock_guard lk(mu);
  view_live.assign(resp.live().begin(), resp.live().end());
  view_leaders.clear();
  for (const auto& l : resp.leaders()) view_leaders.push_back(wire::from_proto(l));
  view_controller_leader = resp.controller_leader();
}

void core::heartbeat_round() {
  const auto now = clock::now();
  next_heartbeat = now + kHeartbeatInterval;
  auto req = std::make_shared<pb::HeartbeatRequest>();
  req->set_cluster_id(opts.cluster_id);
  wire::to_proto(broker_info{opts.self, opts.client_address, opts.internal_address},
                 req->mutable_broker());
  std::function<std::vector<leader_entry>()> rep;
  {
    std::lock_guard lk(mu);
    rep = reporter;
  }
  if (rep) {
    for (const auto& e : rep()) wire::to_proto(e, req->add_leaders());
  }
  if (group && group->is_leader()) {
    pb::HeartbeatResponse resp;
    handle_heartbeat(*req, &resp);
    if (resp.error_code() == 0) take_heartbeat_answer(resp);
    return;
  }
  int32_t target = -1;
  const std::string address = next_target(&target);
  if (address.empty() || target == opts.self) return;  // no leader yet: next round
  struct call {
    grpc::ClientContext ctx;
    pb::HeartbeatResponse resp;
  };
  auto c = std::make_shared<call>();
  c->ctx.set_deadline(grpc_deadline(now + kHeartbeatRpcTimeout));
  if (!begin_call(&c->ctx)) return;
  heartbeat_in_flight = true;
  auto self = shared_from_this();
  stub(address)->async()->Heartbeat(
      &c->ctx, req.get(), &c->resp, [self, c, req, target](grpc::Status s) {
        self->end_call(&c->ctx);
        self->post([self, c, target, s] {
          self->heartbeat_in_flight = false;
          if (!s.ok()) {
            if (self->leader_hint == target) self->leader_hint = -1;
            self->next_heartbeat = clock::now() + kRetryDelay;
            return;
          }
          const auto& r = c->resp;
          if (r.error_code() == static_cast<int>(errc::not_controller)) {
            self->leader_hint = r.controller_leader() != target ? r.controller_leader() : -1;
            self->next_heartbeat = clock::now();  // at the next tick, to the new leader
            return;
          }
          if (r.error_code() != 0) {
            spdlog::warn("controller: heartbeat refused by broker {}: {}", target, r.message());
            return;
          }
          self->take_heartbeat_answer(r);
        });
      });
}

void core::fetch_round() {
  int32_t target = -1;
  const std::string address = next_target(&target);
  if (address.empty()) {
    next_fetch = clock::now() + kRetryDelay;
    return;
  }
  struct call {
    grpc::ClientContext ctx;
    pb::FetchMetadataRequest req;
    pb::FetchMetadataResponse resp;
  };
  auto c = std::make_shared<call>();
  c->req.set_from_offset(applied_end);
  c->req.set_max_wait_ms(kFetchWaitMs);
  c->req.set_cluster_id(opts.cluster_id);
  c->req.set_broker_id(opts.self);
  c->ctx.set_deadline(
      grpc_deadline(clock::now() + std::chrono::milliseconds(kFetchWaitMs) + kFetchRpcSlack));
  if (!begin_call(&c->ctx)) return;
  fetch_in_flight = true;
  auto self = shared_from_this();
  stub(address)->async()->FetchMetadata(
      &c->ctx, &c->req, &c->resp, [self, c, target](grpc::Status s) {
        self->end_call(&c->ctx);
        self->post([self, c, target, s] {
          self->fetch_in_flight = false;
          const auto& r = c->resp;
          if (!s.ok() || r.error_code() != 0) {
            // Try the next voter after a pause.
            if (self->leader_hint == target) self->leader_hint = -1;
            ++self->voter_cursor;
            self->next_fetch = clock::now() + kRetryDelay;
            return;
          }
          if (r.controller_leader() > 0) self->leader_hint = r.controller_leader();
          const int64_t before_end = self->applied_end;
          const int64_t before_offset = self->image.offset;
          for (const auto& rec : r.records()) {
            if (rec.offset() <= self->image.offset) continue;
            auto m = wire::from_proto(rec.record());
            Status st = m.ok() ? apply(self->image, *m, rec.offset()) : m.status();
            if (!st.ok()) {
              spdlog::error("controller: cannot apply fetched metadata at {}: {}", rec.offset(),
                            st.to_string());
              self->apply_failed = true;
              return;
            }
          }
          self->applied_end = std::max(self->applied_end, r.next_offset());
          if (self->image.offset != before_offset) self->publish();
          self->resolve_applied();
          if (self->applied_end > before_end) {
            self->fetch_round();  // more may be waiting: do not wait for a tick
          } else {
            self->next_fetch = clock::now();
          }
        });
      });
}

}  // namespace kappa::controller
