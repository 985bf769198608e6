// controller: start/stop, the public methods, the tick and timers.
#include "replication/controller/controller.h"

#include <algorithm>
#include <future>

#include "replication/controller/controller_core.h"
#include "replication/controller/controller_service.h"
#include "replication/controller/errc.h"
#include "replication/controller/metadata_batches.h"
#include "storage/errc.h"

#include <spdlog/spdlog.h>

namespace kappa::controller {

Result<std::vector<voter>> parse_voters(const std::string& spec) {
  std::vector<voter> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) {
      if (spec.empty()) break;
      return error(errc::invalid_request, "controller voters: empty item in \"" + spec + "\"");
    }
    const size_t at = item.find('@');
    const std::string id_part = at == std::string::npos ? "" : item.substr(0, at);
    const std::string addr = at == std::string::npos ? "" : item.substr(at + 1);
    int32_t id = 0;
    bool id_ok =
        !id_part.empty() && id_part.size() <= 9 &&
        std::all_of(id_part.begin(), id_part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (id_ok) id = std::stoi(id_part);
    const size_t colon = addr.rfind(':');
    if (!id_ok || id <= 0 || colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
      return error(errc::invalid_request,
                   "controller voters: \"" + item + "\" is not <id>@<host>:<port> with id > 0");
    }
    for (const auto& v : out) {
      if (v.id == id) {
        return error(errc::invalid_request,
                     "controller voters: id " + std::to_string(id) + " appears twice");
      }
    }
    out.push_back({id, addr});
  }
  return out;
}

core::core(controller_options o, executor_fn s, executor_fn f, replication::transport& t)
    : opts(std::move(o)), strand(std::move(s)), flusher(std::move(f)), net(t) {
  published = std::make_shared<const metadata_image>();
}

core::~core() = default;

bool core::stopping() const {
  std::lock_guard lk(mu);
  return stopped;
}

void core::post(std::function<void()> fn) {
  strand([self = shared_from_this(), fn = std::move(fn)] {
    if (self->stopping()) return;
    fn();
  });
}

void core::after(clock::duration d, std::function<void()> fn) {
  timers.emplace(clock::now() + d, std::move(fn));
}

int32_t core::known_leader() const {
  if (group) {
    const auto st = group->status();
    return st.leader == raft::no_node ? -1 : static_cast<int32_t>(st.leader.value);
  }
  return leader_hint;
}

std::string core::next_target(int32_t* id) {
  const int32_t leader = known_leader();
  auto it = voter_addresses.find(leader);
  if (it != voter_addresses.end()) {
    *id = leader;
    return it->second;
  }
  // Unknown leader: walk the voters, skipping ourselves when we are one (we
  // would know if we led).
  for (size_t i = 0; i < voter_ids.size(); ++i) {
    const int32_t v = voter_ids[voter_cursor++ % voter_ids.size()];
    if (v == opts.self && voter_ids.size() > 1) continue;
    *id = v;
    return voter_addresses.at(v);
  }
  *id = -1;
  return {};
}

void core::on_tick() {
  const auto now = clock::now();
  // Leadership changes arrive through on_role; polling covers a runner that
  // reports the role only on change we may have missed before start.
  if (group) {
    const bool leader = group->is_leader();
    if (leader != was_leader) on_raft_role(group->status());
  }
  while (!timers.empty() && timers.begin()->first <= now) {
    auto fn = std::move(timers.begin()->second);
    timers.erase(timers.begin());
    fn();
  }
  expire_pendings(now);
  for (size_t i = 0; i < apply_waiters.size();) {
    if (apply_waiters[i].deadline <= now) {
      auto done = std::move(apply_waiters[i].done);
      apply_waiters.erase(apply_waiters.begin() + static_cast<std::ptrdiff_t>(i));
      done();
    } else {
      ++i;
    }
  }
  wake_fetch_waiters(false);
  if (now >= next_heartbeat && !heartbeat_in_flight) heartbeat_round();
  if (!is_voter && !apply_failed && now >= next_fetch && !fetch_in_flight) fetch_round();
}

namespace {
// Waits (bounded) until the tasks queued on `ex` before now have run.
void drain(const executor_fn& ex) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  ex([p] { p->set_value(); });
  f.wait_for(std::chrono::seconds(2));
}
// Whether `ex` still runs tasks: probed (bounded) before a shutdown that was
// not called while the owner's executors ran.

bool runs_within(const executor_fn& ex, std::chrono::milliseconds d) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  ex([p] { p->set_value(); });
  return f.wait_for(d) == std::future_status::ready;
}
}  // namespace

void core::shutdown(bool executors_alive) {
  {
    std::lock_guard lk(mu);
    if (stopped) return;
    stopped = true;
  }
  // Running the strand's work below inline is only safe if no strand task
  // can run concurrently; the group's own shutdown waits on the strand.
  if (group && executors_alive) group->shutdown();
  // Fail what waits on the strand. post() drops tasks once stopped, so this
  // one goes to the executor directly (or runs here when it is gone).
  auto flushed = std::make_shared<std::promise<void>>();
  auto fut = flushed->get_future();
  auto fail_waiting = [self = shared_from_this(), flushed] {
    auto pend = std::move(self->pendings);
    self->pendings.clear();
    for (auto& [_, p] : pend) {
      p.done(error(errc::not_controller, "controller shutting down"));
    }
    auto waiters = std::move(self->apply_waiters);
    self->apply_waiters.clear();
    for (auto& w : waiters) w.done();
    // Timers hold retries whose callers still wait for an answer: run them;
    // every retry path checks stopping() and answers not_controller.
    auto timers = std::move(self->timers);
    self->timers.clear();
    for (auto& [_, fn] : timers) fn();
    flushed->set_value();
  };
  if (executors_alive) {
    strand(std::move(fail_waiting));
    fut.wait_for(std::chrono::seconds(5));
  } else {
    fail_waiting();
  }
  wake_fetch_waiters(true);
  {
    std::unique_lock lk(mu);
    for (auto* ctx : client_calls) ctx->TryCancel();
    // A cancelled call's completion runs on the strand: without it there is
    // nothing to wait for.
    inflight_cv.wait_for(lk, executors_alive ? std::chrono::seconds(5) : std::chrono::seconds(0),
                         [this] { return client_calls.empty(); });
  }
  if (log && !executors_alive) {
    // Nothing queued can run any more; the group's destructor writes its
    // final state (it does not touch the log).
    Status st = log->close();
    if (!st.ok()) spdlog::warn("controller: closing the metadata log: {}", st.to_string());
  } else if (log) {
    // The group's queued strand and flusher tasks may still reach the log
    // (they hold the group, not the log): let them run out, then close it.
    // Done here, not in the destructor, because the owner may stop its
    // executors between the two.
    drain(strand);
    drain(flusher);
    drain(strand);
    Status st = log->close();
    if (!st.ok()) spdlog::warn("controller: closing the metadata log: {}", st.to_string());
  }
}

// --- controller ---

struct controller::impl {
  std::shared_ptr<core> c;
};

Result<std::unique_ptr<controller>> controller::start(controller_options o, executor_fn strand,
                                                      executor_fn flusher,
                                                      replication::transport& net) {
  if (o.env == nullptr) return error(errc::invalid_request, "controller: no env");
  if (o.voters.empty()) return error(errc::invalid_request, "controller: no voters");
  auto c = std::make_shared<core>(std::move(o), std::move(strand), std::move(flusher), net);
  for (const auto& v : c->opts.voters) {
    c->voter_addresses[v.id] = v.internal_address;
    c->voter_ids.push_back(v.id);
    if (v.id == c->opts.self) c->is_voter = true;
    if (v.id != c->opts.self)
      net.set_peer({raft::node_id(static_cast<uint64_t>(v.id)), v.internal_address});
  }
  std::sort(c->voter_ids.begin(), c->voter_ids.end());
  c->service = std::make_unique<controller_service>(c);

  if (c->is_voter) {
    const std::string dir = c->opts.data_dir + "/__kappa/controller";
    storage::log_config lc;
    lc.retention_ms = -1;  // the metadata log is the whole history: never expire it
    lc.retention_bytes = -1;
    lc.segment_bytes = uint64_t{64} << 20;
    lc.flush = c->opts.durable ? storage::flush_policy::always : storage::flush_policy::interval;
    KAPPA_RETURN_IF_ERROR(c->opts.env->create_dirs(dir));
    KAPPA_ASSIGN_OR_RETURN(c->log, storage::log::open(*c->opts.env, dir, lc));

    replication::group_options g;
    g.name = replication::kControllerGroup;
    g.self = raft::node_id(static_cast<uint64_t>(c->opts.self));
    g.log = c->log.get();
    g.env = c->opts.env;
    g.state_path = dir + "/raft.state";
    g.epoch_cache_path = dir + "/leader-epoch-checkpoint";
    for (int32_t v : c->voter_ids)
      g.initial.voters.push_back(raft::node_id(static_cast<uint64_t>(v)));
    g.durable = c->opts.durable;
    g.seed = static_cast<uint64_t>(c->opts.self) * 7919 + 17;

    replication::raft_group::listener l;
    std::weak_ptr<core> weak = c;
    l.on_apply = [weak](const raft::entry& e) {
      if (auto s = weak.lock()) s->on_raft_apply(e);
    };
    l.on_truncate = [weak](int64_t from) {
      if (auto s = weak.lock()) s->on_raft_truncate(from);
    };
    l.on_role = [weak](const replication::group_status& st) {
      if (auto s = weak.lock()) s->on_raft_role(st);
    };
    KAPPA_ASSIGN_OR_RETURN(c->group, replication::raft_group::create(
                                         std::move(g), c->strand, c->flusher, net, std::move(l)));
  }

  auto ctl = std::unique_ptr<controller>(new controller());
  ctl->impl_ = std::make_unique<impl>(impl{c});
  return ctl;
}

controller::~controller() {
  if (!impl_) return;
  auto& c = impl_->c;
  // The owner should have called shutdown() while its executors ran (then
  // this is a no-op). If it did not, and they are gone already, waiting on
  // them would only run out every timeout (~15 s): probe the strand briefly.
  if (!c->stopping()) {
    const bool alive = runs_within(c->strand, std::chrono::milliseconds(200)) &&
                       runs_within(c->flusher, std::chrono::milliseconds(200));
    if (!alive) {
      spdlog::warn("controller: destroyed after its executors stopped; not waiting on them");
    }
    c->shutdown(alive);
  }
  c->group.reset();
}

grpc::Service* controller::service() {
  return impl_->c->service.get();
}

void controller::step(raft::message m) {
  if (impl_->c->group) impl_->c->group->step(std::move(m));
}

void controller::tick() {
  auto& c = impl_->c;
  if (c->group) c->group->tick();
  c->post([c] { c->on_tick(); });
}

void controller::submit(command cmd, int64_t timeout_ms, std::function<void(Status)> done) {
  submit_for_result(std::move(cmd), timeout_ms,
                    [done = std::move(done)](Result<submit_result> r) { done(r.status()); });
}

void controller::submit_for_result(command cmd, int64_t timeout_ms,
                                   std::function<void(Result<submit_result>)> done) {
  auto& c = impl_->c;
  const auto deadline = clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0));
  auto shared_done = std::make_shared<std::function<void(Result<submit_result>)>>(std::move(done));
  if (c->stopping()) {
    (*shared_done)(error(errc::not_controller, "controller shutting down"));
    return;
  }
  c->strand([c, cmd = std::move(cmd), deadline, shared_done]() mutable {
    if (c->stopping()) {
      (*shared_done)(error(errc::not_controller, "controller shutting down"));
      return;
    }
    c->submit_anywhere(std::move(cmd), deadline,
                       [shared_done](Result<submit_result> r) { (*shared_done)(std::move(r)); });
  });
}

void controller::allocate_producer_ids(int64_t count, int64_t timeout_ms,
                                       std::function<void(Result<int64_t>)> done) {
  submit_for_result(allocate_producer_ids_command{count}, timeout_ms,
                    [done = std::move(done)](Result<submit_result> r) {
                      if (!r.ok()) return done(r.status());
                      done(r->producer_id_start);
                    });
}

cluster_view controller::view() const {
  auto& c = impl_->c;
  std::lock_guard lk(c->mu);
  return {c->published, c->view_live, c->view_leaders, c->view_controller_leader};
}

void controller::on_image(std::function<void(std::shared_ptr<const metadata_image>)> f) {
  std::lock_guard lk(impl_->c->mu);
  impl_->c->image_cb = std::move(f);
}

void controller::set_leader_reporter(std::function<std::vector<leader_entry>()> f) {
  std::lock_guard lk(impl_->c->mu);
  impl_->c->reporter = std::move(f);
}

void controller::shutdown() {
  impl_->c->shutdown();
}

}  // namespace kappa::controller
