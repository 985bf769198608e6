// Replica reassignment: the planner (partition_reassign.h) and
// partition::reassign_step / transfer_leadership, which apply it on the
// leader's strand.
#include "broker/partition_reassign.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/errc.h"
#include "broker/partition_internal.h"
#include "replication/raft/errc.h"

namespace kappa::broker {
namespace {

bool has(const std::vector<raft::node_id>& ids, raft::node_id id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string node_str(raft::node_id id) { return std::to_string(id.value); }

}  // namespace

Result<reassign_action> plan_reassign_step(const replication::group_status& st,
                                           raft::node_id self, const std::vector<int32_t>& target) {
  if (target.empty()) return error(errc::invalid_request, "the target replica set is empty");
  std::vector<raft::node_id> want;
  for (int32_t id : target) {
    if (id <= 0) {
      return error(errc::invalid_request, "replica id " + std::to_string(id) + " is not a node id");
    }
    want.push_back(raft::node_id(uint64_t(id)));
  }
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  const raft::config& m = st.membership;
  using ck = raft::config_change::kind;
  reassign_action a;
  auto change = [&](ck k, raft::node_id n, std::string why) {
    a.what = reassign_action::kind::change;
    a.change = raft::config_change{k, n};
    a.reason = std::move(why);
    return a;
  };

  // 1. Grow: every target replica joins as a learner first (it copies the
  // log without counting for commit, so a slow newcomer cannot stall it).
  for (raft::node_id n : want) {
    if (!m.contains(n)) return change(ck::add_learner, n, "add " + node_str(n) + " as a learner");
  }
  // 2. Promote caught-up learners.
  bool behind = false;
  for (raft::node_id n : want) {
    if (!m.is_learner(n)) continue;
    if (has(st.in_sync, n)) return change(ck::promote, n, "promote " + node_str(n));
    behind = true;
  }
  if (behind) {
    a.what = reassign_action::kind::wait;
    a.reason = "waiting for learners to catch up";
    return a;
  }
  // 3. Shrink, everyone but the leader.
  for (raft::node_id n : m.voters) {
    if (n != self && !has(want, n)) return change(ck::remove, n, "remove voter " + node_str(n));
  }
  for (raft::node_id n : m.learners) {
    if (n != self && !has(want, n)) return change(ck::remove, n, "remove learner " + node_str(n));
  }
  // 4. The leader leaves last: hand leadership to an in-sync target voter.
  if (!has(want, self)) {
    for (raft::node_id n : want) {
      if (m.is_voter(n) && has(st.in_sync, n)) {
        a.what = reassign_action::kind::transfer;
        a.transfer_to = n;
        a.reason = "transfer leadership to " + node_str(n) + " before leaving";
        return a;
      }
    }
    a.what = reassign_action::kind::wait;
    a.reason = "no in-sync target voter to hand leadership to";
    return a;
  }
  a.what = m.voters == want ? reassign_action::kind::done : reassign_action::kind::wait;
  a.reason = a.what == reassign_action::kind::done ? "voters equal the target" : "unexpected membership";
  return a;
}

void partition::transfer_leadership(int32_t to, std::function<void(Status)> done) {
  asio::post(strand_->strand, [self = shared_from_this(), to, done = std::move(done)] {
    if (self->retired_) return done(self->gone());
    if (!self->group_->is_leader()) return done(self->not_leader());
    if (to <= 0) return done(error(errc::invalid_request, "no node id " + std::to_string(to)));
    done(self->group_->transfer_leadership(raft::node_id(uint64_t(to))));
  });
}

void partition::reassign_step(std::vector<int32_t> target,
                              std::function<void(Result<bool>)> done) {
  asio::post(strand_->strand, [self = shared_from_this(), target = std::move(target),
                               done = std::move(done)] {
    if (self->retired_) return done(self->gone());
    if (!self->group_->is_leader()) return done(self->not_leader());
    const raft::node_id me(uint64_t(self->self_));
    auto plan = plan_reassign_step(self->group_->status(), me, target);
    if (!plan.ok()) return done(plan.status());
    switch (plan->what) {
      case reassign_action::kind::done:
        return done(true);
      case reassign_action::kind::wait:
        return done(false);
      case reassign_action::kind::change: {
        Status st = self->group_->change_membership(plan->change);
        // The previous change is not committed yet: the next call retries.
        if (st.code() == raft::errc::config_change_pending) return done(false);
        if (!st.ok()) return done(st);
        spdlog::info("{}: reassignment: {}", self->id_.dir_name(), plan->reason);
        return done(false);
      }
      case reassign_action::kind::transfer: {
        Status st = self->group_->transfer_leadership(plan->transfer_to);
        if (st.code() == raft::errc::transfer_in_progress) return done(false);
        if (!st.ok()) return done(st);
        spdlog::info("{}: reassignment: {}", self->id_.dir_name(), plan->reason);
        return done(false);
      }
    }
    done(false);
  });
}

}  // namespace kappa::broker
