// Replica reassignment: the planner (partition_reassign.h). The partition
// applies it in partition_leadership.cc.
#include "broker/partition_reassign.h"

#include <algorithm>

#include "broker/errc.h"

namespace kappa::broker {
namespace {

bool has(const std::vector<raft::node_id>& ids, raft::node_id id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string node_str(raft::node_id id) {
  return std::to_string(id.value);
}

}  // namespace

Result<reassign_action> plan_reassign_step(const replication::group_status& st, raft::node_id self,
                                           const std::vector<int32_t>& target) {
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
  a.reason =
      a.what == reassign_action::kind::done ? "voters equal the target" : "unexpected membership";
  return a;
}

}  // namespace kappa::broker
