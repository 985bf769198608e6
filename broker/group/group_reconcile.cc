// Reconciliation (KIP-848) and target assignments: the helpers declared in
// group_state.h that group_membership.cc and group_shard.cc share.
#include "broker/group/group_state.h"

namespace kappa::broker::group {
namespace {

bool target_valid(group_state& g, const topics_view& view) {
  partition_set expected;
  partition_set seen;
  for (auto& [id, m] : g.members) {
    partition_set allowed;
    for (const auto& topic : resolve_subscription(m, view)) {
      int32_t n = view.partitions.at(topic);
      auto& parts = allowed[topic];
      for (int32_t p = 0; p < n; ++p) parts.insert(p);
    }
    ps_normalize(allowed);
    auto it = g.target.find(id);
    if (it == g.target.end()) return false;
    if (!ps_subset(it->second, allowed)) return false;
    if (!ps_empty(ps_intersect(seen, it->second))) return false;
    seen = ps_union(seen, it->second);
    expected = ps_union(expected, allowed);
  }
  return seen == expected;
}

}  // namespace

const partition_set& target_of(const group_state& g, const std::string& member_id) {
  static const partition_set kEmpty;
  auto it = g.target.find(member_id);
  return it == g.target.end() ? kEmpty : it->second;
}

// One reconciliation step of member `m` toward its target; `owned` is what
// the member reported owning (nullptr: nothing reported, e.g. a leave).
// Returns whether persisted state changed.
bool reconcile(group_state& g, member_state& m, const partition_set* owned, int64_t now_ms) {
  bool changed = false;
  const partition_set& target = target_of(g, m.member_id);
  // Revocations the member has finished: what it no longer reports owning.
  if (owned != nullptr && !ps_empty(m.pending_revocation)) {
    partition_set still = ps_intersect(m.pending_revocation, *owned);
    if (still != m.pending_revocation) {
      m.pending_revocation = std::move(still);
      changed = true;
    }
  }
  // Partitions it is still letting go of that its target gives back: it
  // keeps them (nobody else can have them while they are pending here).
  partition_set back = ps_intersect(m.pending_revocation, target);
  if (!ps_empty(back)) {
    m.pending_revocation = ps_minus(m.pending_revocation, back);
    m.assigned = ps_union(m.assigned, back);
    changed = true;
  }
  if (m.member_epoch != g.assignment_epoch || !ps_empty(m.pending_revocation) ||
      !ps_subset(m.assigned, target)) {
    partition_set revoke = ps_minus(m.assigned, target);
    if (!ps_empty(revoke)) {
      if (ps_empty(m.pending_revocation))
        m.revocation_deadline_ms = now_ms + m.rebalance_timeout_ms;
      m.assigned = ps_intersect(m.assigned, target);
      m.pending_revocation = ps_union(m.pending_revocation, revoke);
      changed = true;
    }
    // Revoking: it keeps its epoch (its commits stay valid) until it let go.
    if (!ps_empty(m.pending_revocation)) return changed;
    if (m.member_epoch != g.assignment_epoch) {
      m.previous_member_epoch = m.member_epoch;
      m.member_epoch = g.assignment_epoch;
      changed = true;
    }
  }
  // Its target, minus what others still own or are revoking (Waiting).
  partition_set missing = ps_minus(target, m.assigned);
  if (!ps_empty(missing)) {
    partition_set grant = ps_minus(missing, owned_by_others(g, m.member_id));
    if (!ps_empty(grant)) {
      m.assigned = ps_union(m.assigned, grant);
      changed = true;
    }
  }
  return changed;
}

partition_set owned_by_others(const group_state& g, const std::string& except) {
  partition_set out;
  for (const auto& [id, m] : g.members) {
    if (id == except) continue;
    for (const auto& [topic, parts] : m.assigned) out[topic].insert(parts.begin(), parts.end());
    for (const auto& [topic, parts] : m.pending_revocation)
      out[topic].insert(parts.begin(), parts.end());
  }
  return out;
}

void remove_member(group_state& g, const std::string& member_id) {
  g.members.erase(member_id);
  g.target.erase(member_id);
}

void new_target(group_state& g, const topics_view& view, uint64_t fingerprint) {
  ++g.group_epoch;
  g.topics_checked = fingerprint;
  g.assignment_epoch = g.group_epoch;
  if (g.members.empty()) {
    g.target.clear();
    return;
  }
  std::vector<assignor_member> in;
  std::map<std::string, int32_t> counts;
  in.reserve(g.members.size());
  for (auto& [id, m] : g.members) {
    assignor_member a;
    a.member_id = id;
    a.topics = resolve_subscription(m, view);
    // Stickiness: the assignor starts from the previous target (where the
    // group is heading), or for a member without one, from what it has.
    auto previous = g.target.find(id);
    const partition_set& from = previous != g.target.end() ? previous->second : m.assigned;
    for (const auto& [topic, parts] : from) {
      if (a.topics.count(topic) == 0) continue;
      int32_t n = view.partitions.at(topic);
      for (int32_t p : parts) {
        if (p < n) a.current[topic].insert(p);
      }
    }
    for (const auto& t : a.topics) counts[t] = view.partitions.at(t);
    in.push_back(std::move(a));
  }
  auto result = assign(g.assignor.empty() ? std::string("uniform") : g.assignor, in, counts);
  g.target.clear();
  for (auto& [id, m] : g.members) {
    partition_set t = result[id];
    ps_normalize(t);
    g.target[id] = std::move(t);
  }
  ++g.rebalances;
  // A static member away (-2) owns nothing: what moved away from it is free.
  for (auto& [id, m] : g.members) {
    if (!m.left_temporarily) continue;
    m.assigned = ps_intersect(m.assigned, g.target[id]);
    m.pending_revocation.clear();
  }
}

bool refresh_target(group_state& g, const topics_view& view, uint64_t fingerprint) {
  // An empty view is most likely metadata not known yet: moving every
  // partition away on it would be a rebalance storm. (Joins and
  // subscription changes still compute with whatever view they are given.)
  if (view.partitions.empty()) return false;
  if (g.topics_checked == fingerprint) return false;
  g.topics_checked = fingerprint;
  if (g.members.empty() || target_valid(g, view)) return false;
  new_target(g, view, fingerprint);
  return true;
}

}  // namespace kappa::broker::group
