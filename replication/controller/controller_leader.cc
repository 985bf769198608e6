// The controller leader's work: planning and proposing commands, heartbeats
// (liveness, registration, the partition leader table), and serving
// FetchMetadata from the local log (any voter).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "replication/controller/controller_core.h"
#include "replication/controller/errc.h"
#include "replication/controller/metadata_batches.h"
#include "replication/controller/wire.h"
#include "replication/raft/errc.h"

namespace kappa::controller {

namespace {
// How often a command that found the leader not ready yet (a new leader
// whose no-op is not applied) is tried again.
constexpr auto kNotReadyRetry = std::chrono::milliseconds(20);
constexpr auto kRegisterTimeout = std::chrono::seconds(5);
}  // namespace

std::vector<int32_t> core::live_brokers(bool registered_only) const {
  const auto now = clock::now();
  const auto& known = spec_valid ? spec : image;
  std::vector<int32_t> out;
  for (const auto& [id, seen] : last_seen) {
    if (now - seen >= kLivenessWindow) continue;
    if (registered_only && !known.brokers.count(id)) continue;
    out.push_back(id);
  }
  return out;  // sorted: last_seen is a map
}

void core::submit_local(command cmd, clock::time_point deadline,
                        std::function<void(Result<submit_result>)> done) {
  if (stopping()) return done(error(errc::not_controller, "controller shutting down"));
  if (!group || !group->is_leader()) {
    return done(error(errc::not_controller, std::to_string(known_leader())));
  }
  if (pendings.size() >= kPendingMax) {
    return done(error(errc::request_timed_out, "controller: too many commands in flight"));
  }
  // Plan only against an image that holds the whole log (a new leader first
  // applies what earlier leaders appended), plus what we proposed since.
  if (!spec_valid && applied_end != log->log_end_offset()) {
    if (clock::now() >= deadline) {
      return done(error(errc::request_timed_out, "controller leader not ready by the deadline"));
    }
    after(kNotReadyRetry, [this, cmd = std::move(cmd), deadline, done = std::move(done)]() mutable {
      submit_local(std::move(cmd), deadline, std::move(done));
    });
    return;
  }
  if (!spec_valid) {
    spec = image;
    spec_valid = true;
  }
  auto recs = plan(spec, cmd, live_brokers(true));
  if (!recs.ok()) return done(recs.status());
  if (recs->empty()) return done(submit_result{});
  auto batch = build_metadata_batch(*recs, opts.env->now_ms());
  if (!batch.ok()) return done(batch.status());
  auto res = group->propose(std::move(*batch), static_cast<int64_t>(recs->size()));
  if (!res.ok()) {
    const auto code = res.status().code();
    if (code == raft::errc::leader_not_ready || code == raft::errc::transfer_in_progress) {
      if (clock::now() >= deadline) {
        return done(error(errc::request_timed_out, res.status().message()));
      }
      after(kNotReadyRetry,
            [this, cmd = std::move(cmd), deadline, done = std::move(done)]() mutable {
              submit_local(std::move(cmd), deadline, std::move(done));
            });
      return;
    }
    if (code == raft::errc::not_leader) {
      return done(error(errc::not_controller, std::to_string(known_leader())));
    }
    return done(error(errc::unknown_server_error, "controller: " + res.status().message()));
  }
  int64_t offset = res->base_offset;
  for (const auto& r : *recs) {
    Status st = apply(spec, r, offset++);
    if (!st.ok()) {
      // plan() made a record apply() refuses: a bug. Rebuild from the log.
      spec_valid = false;
      spdlog::error("controller: planned record does not apply: {}", st.to_string());
    }
  }
  pending_submit p;
  p.last_offset = res->last_offset;
  p.deadline = deadline;
  p.result.last_offset = res->last_offset;
  if (const auto* pid = std::get_if<producer_ids_record>(&recs->front())) {
    p.result.producer_id_start = pid->start;
  }
  p.done = std::move(done);
  pendings.emplace(p.last_offset, std::move(p));
}

void core::expire_pendings(clock::time_point now) {
  for (auto it = pendings.begin(); it != pendings.end();) {
    if (it->second.deadline <= now) {
      auto done = std::move(it->second.done);
      it = pendings.erase(it);
      done(error(errc::request_timed_out, "not committed by the deadline"));
    } else {
      ++it;
    }
  }
}

void core::handle_heartbeat(const pb::HeartbeatRequest& req, pb::HeartbeatResponse* resp) {
  resp->set_controller_leader(known_leader());
  resp->set_image_offset(image.offset);
  if (!group || !group->is_leader()) {
    resp->set_error_code(static_cast<int>(errc::not_controller));
    resp->set_message("not the controller leader");
    return;
  }
  if (req.cluster_id() != opts.cluster_id) {
    resp->set_error_code(static_cast<int>(errc::invalid_request));
    resp->set_message("cluster id " + req.cluster_id() + " is not " + opts.cluster_id);
    return;
  }
  const broker_info info = wire::from_proto(req.broker());
  if (info.id <= 0) {
    resp->set_error_code(static_cast<int>(errc::invalid_request));
    resp->set_message("broker id must be > 0");
    return;
  }
  last_seen[info.id] = clock::now();

  const auto& known = spec_valid ? spec : image;
  auto it = known.brokers.find(info.id);
  if ((it == known.brokers.end() || !(it->second == info)) && !registering.count(info.id)) {
    registering.insert(info.id);
    submit_local(register_broker_command{info}, clock::now() + kRegisterTimeout,
                 [this, id = info.id](Result<submit_result> r) {
                   registering.erase(id);
                   if (!r.ok()) {
                     spdlog::warn("controller: registering broker {}: {}", id,
                                  r.status().to_string());
                   }
                 });
  }

  // Last report per partition wins unless it is from an older epoch (a
  // deposed leader that has not noticed yet).
  for (const auto& l : req.leaders()) {
    leader_entry e = wire::from_proto(l);
    if (e.leader < 0) e.leader = info.id;
    auto key = std::make_pair(e.topic, e.partition);
    auto cur = leader_table.find(key);
    if (cur != leader_table.end() && cur->second.epoch == e.epoch &&
        cur->second.leader == e.leader && e.in_sync.empty()) {
      // A report without its in-sync set (an older broker) keeps the known one.
      e.in_sync = cur->second.in_sync;
    }
    if (cur == leader_table.end() || cur->second.epoch <= e.epoch) leader_table[key] = std::move(e);
  }

  const auto live = live_brokers(false);
  for (int32_t id : live) resp->add_live(id);
  // Partitions whose topic is not applied here yet are kept but not told.
  for (const auto& [key, e] : leader_table) {
    auto t = image.topics.find(key.first);
    if (t == image.topics.end() || key.second < 0 ||
        static_cast<size_t>(key.second) >= t->second.partitions.size()) {
      continue;
    }
    auto* out = resp->add_leaders();
    wire::to_proto(e, out);
    if (!std::binary_search(live.begin(), live.end(), e.leader)) {
      // Its leader stopped heartbeating and nobody reported a newer
      // leadership: offline (clients see LEADER_NOT_AVAILABLE, not a dead
      // address).
      out->set_leader(-1);
      out->clear_in_sync();
    }
  }
}

void core::answer_fetch(const pb::FetchMetadataRequest& req, pb::FetchMetadataResponse* resp) {
  resp->set_controller_leader(known_leader());
  resp->set_high_watermark(applied_end);
  const int64_t from = std::max<int64_t>(req.from_offset(), log->log_start_offset());
  resp->set_next_offset(from);
  if (from >= applied_end) return;
  auto view = log->read(from, kFetchBytesMax, applied_end);
  if (!view.ok()) {
    resp->set_error_code(static_cast<int>(errc::unknown_server_error));
    resp->set_message(view.status().to_string());
    return;
  }
  auto next = walk_metadata_batches(view->batches, from, [resp](int64_t off, metadata_record r) {
    auto* out = resp->add_records();
    out->set_offset(off);
    wire::to_proto(r, out->mutable_record());
    return Status();
  });
  if (!next.ok()) {
    resp->clear_records();
    resp->set_error_code(static_cast<int>(errc::unknown_server_error));
    resp->set_message(next.status().to_string());
    return;
  }
  resp->set_next_offset(std::min(*next, applied_end));
}

void core::wake_fetch_waiters(bool expire_all) {
  std::vector<fetch_waiter> ready;
  {
    std::lock_guard lk(mu);
    if (fetch_waiters.empty()) return;
    const auto now = clock::now();
    for (size_t i = 0; i < fetch_waiters.size();) {
      auto& w = fetch_waiters[i];
      if (expire_all || w.deadline <= now || w.request->from_offset() < applied_end) {
        ready.push_back(w);
        fetch_waiters.erase(fetch_waiters.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  for (auto& w : ready) {
    if (!w.call->claim()) continue;  // cancelled meanwhile
    if (expire_all) {
      w.call->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller shutting down"));
      continue;
    }
    answer_fetch(*w.request, w.response);
    w.call->finish(grpc::Status::OK);
  }
}

}  // namespace kappa::controller
