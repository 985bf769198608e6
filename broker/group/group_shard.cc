// group_shard: construction, replay, describe/list, delete_group, tick and
// stats. Membership is in group_membership.cc, offsets in group_offsets.cc.
#include "broker/group/group_shard.h"

#include <random>

#include "broker/group/group_codec.h"
#include "broker/group/group_offsets.h"
#include "broker/group/group_state.h"

namespace kappa::broker::group {
namespace {

uint64_t seed_of(const shard_options& options) {
  if (options.id_seed != 0) return options.id_seed;
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

std::string member_state_name(const group_state& g, const member_state& m) {
  const partition_set& target = target_of(g, m.member_id);
  if (!ps_empty(m.pending_revocation) || !ps_subset(m.assigned, target)) return "Revoking";
  if (m.member_epoch != g.assignment_epoch || m.assigned != target) return "Waiting";
  return "Stable";
}

std::string group_state_name(const group_state& g) {
  if (g.members.empty()) return "Empty";
  if (g.group_epoch > g.assignment_epoch) return "Assigning";
  for (const auto& [id, m] : g.members) {
    if (member_state_name(g, m) != "Stable") return "Reconciling";
  }
  return "Stable";
}

group_shard::group_shard(shard_options options)
    : options_(options), state_(std::make_unique<state>()) {
  state_->rng.seed(seed_of(options_));
}

group_shard::~group_shard() = default;

Status group_shard::replay(std::string_view key, std::optional<std::string_view> value) {
  return apply_record(state_->groups, key, value);
}

void group_shard::loaded(int64_t now_ms) {
  for (auto& [gid, g] : state_->groups) {
    g.topics_checked = 0;
    for (auto& [id, m] : g.members) {
      m.session_deadline_ms = now_ms + m.session_timeout_ms;
      m.revocation_deadline_ms = now_ms + m.rebalance_timeout_ms;
    }
  }
}

v1::DescribeGroupResponse group_shard::describe(const v1::DescribeGroupRequest& request) const {
  v1::DescribeGroupResponse r;
  auto it = state_->groups.find(request.group_id());
  if (it == state_->groups.end()) {
    r.set_error_code(v1::GROUP_ID_NOT_FOUND);
    r.set_error_message("group " + request.group_id() + " does not exist");
    return r;
  }
  const group_state& g = it->second;
  r.set_group_id(g.group_id);
  r.set_state(group_state_name(g));
  r.set_assignor(g.assignor);
  r.set_group_epoch(g.group_epoch);
  r.set_assignment_epoch(g.assignment_epoch);
  r.set_coordinator_id(-1);
  std::map<topic_partition, std::string> owner;
  for (const auto& [id, m] : g.members) {
    auto* d = r.add_members();
    d->set_member_id(m.member_id);
    d->set_instance_id(m.instance_id);
    d->set_client_id(m.client_id);
    d->set_host(m.host);
    d->set_member_epoch(m.member_epoch);
    d->set_state(member_state_name(g, m));
    for (const auto& t : m.subscribed_topics) d->add_subscribed_topics(t);
    d->set_subscribed_pattern(m.subscribed_pattern);
    ps_to_proto(m.assigned, d->mutable_assignment());
    ps_to_proto(target_of(g, id), d->mutable_target_assignment());
    for (const auto& [topic, parts] : ps_union(m.assigned, m.pending_revocation)) {
      for (int32_t p : parts) owner[{topic, p}] = id;
    }
  }
  std::map<topic_partition, const offset_entry*> partitions;
  for (const auto& [tp, e] : g.offsets) partitions[tp] = &e;
  for (const auto& [tp, id] : owner) partitions.try_emplace(tp, nullptr);
  for (const auto& [tp, e] : partitions) {
    auto* o = r.add_offsets();
    o->set_topic(tp.first);
    o->set_partition(tp.second);
    o->set_committed_offset(e ? e->offset : -1);
    o->set_high_watermark(-1);
    o->set_lag(-1);
    auto oit = owner.find(tp);
    if (oit != owner.end()) o->set_owner_member_id(oit->second);
    if (e) o->set_metadata(e->metadata);
  }
  r.set_rebalances(g.rebalances);
  return r;
}

void group_shard::list(const v1::ListGroupsRequest& request, v1::ListGroupsResponse& out) const {
  for (const auto& [id, g] : state_->groups) {
    std::string name = group_state_name(g);
    bool wanted = request.states().empty();
    for (const auto& s : request.states()) wanted = wanted || s == name;
    if (!wanted) continue;
    auto* l = out.add_groups();
    l->set_group_id(id);
    l->set_state(name);
    l->set_members(static_cast<int32_t>(g.members.size()));
    l->set_coordinator_id(-1);
  }
}

v1::DeleteGroupResponse group_shard::delete_group(const v1::DeleteGroupRequest& request,
                                                  records& out) {
  v1::DeleteGroupResponse r;
  auto it = state_->groups.find(request.group_id());
  if (it == state_->groups.end()) {
    r.set_error_code(v1::GROUP_ID_NOT_FOUND);
    r.set_error_message("group " + request.group_id() + " does not exist");
    return r;
  }
  group_state& g = it->second;
  if (!g.members.empty()) {
    r.set_error_code(v1::NON_EMPTY_GROUP);
    r.set_error_message("group " + g.group_id + " has " + std::to_string(g.members.size()) +
                        " members");
    return r;
  }
  for (const auto& [tp, e] : g.offsets) emit_offset_tombstone(g.group_id, tp, out);
  emit_group_tombstone(g.group_id, out);
  state_->groups.erase(it);
  return r;
}

void group_shard::tick(const topics_view& topics, int64_t now_ms, int64_t wall_ms, records& out) {
  state_->wall_minus_now = wall_ms - now_ms;
  const uint64_t fingerprint = topics_fingerprint(topics);
  const bool expire = wall_ms - state_->expired_at_wall_ms >= 1000;
  if (expire) state_->expired_at_wall_ms = wall_ms;
  for (auto it = state_->groups.begin(); it != state_->groups.end();) {
    group_state& g = it->second;
    bool changed = false;
    std::vector<std::string> expired;
    for (const auto& [id, m] : g.members) {
      const bool session_over = now_ms >= m.session_deadline_ms;
      const bool revocation_over =
          !ps_empty(m.pending_revocation) && now_ms >= m.revocation_deadline_ms;
      if (session_over || revocation_over) expired.push_back(id);
    }
    if (!expired.empty()) {
      for (const auto& id : expired) remove_member(g, id);
      new_target(g, topics, fingerprint);
      changed = true;
    } else {
      changed = refresh_target(g, topics, fingerprint);
    }
    if (g.members.empty() && g.empty_since_ms == 0) {
      g.empty_since_ms = wall_ms;
      changed = true;
    }
    if (changed) emit_group(g, out);
    if (expire) expire_offsets(g, topics, wall_ms, options_.offsets_retention_ms, out);
    if (expire && g.members.empty() && g.offsets.empty() &&
        wall_ms - g.empty_since_ms >= options_.offsets_retention_ms) {
      emit_group_tombstone(g.group_id, out);
      it = state_->groups.erase(it);
    } else {
      ++it;
    }
  }
}

bool group_shard::has_group(const std::string& group_id) const {
  return state_->groups.count(group_id) > 0;
}

std::vector<group_stats> group_shard::stats() const {
  std::vector<group_stats> out;
  out.reserve(state_->groups.size());
  for (const auto& [id, g] : state_->groups) {
    group_stats s;
    s.group_id = id;
    s.state = group_state_name(g);
    s.members = static_cast<int32_t>(g.members.size());
    s.rebalances = g.rebalances;
    for (const auto& [tp, e] : g.offsets) s.committed[tp] = e.offset;
    out.push_back(std::move(s));
  }
  return out;
}

int32_t partition_for_group(std::string_view group_id, int32_t n) {
  KAPPA_ASSERT(n > 0);
  uint32_t h = 0;  // Java int arithmetic wraps; unsigned does the same bits
  for (unsigned char c : group_id) h = 31 * h + c;
  int32_t hash = static_cast<int32_t>(h);
  // Kafka's Utils.abs: MIN_VALUE maps to 0.
  int32_t non_negative = hash == INT32_MIN ? 0 : (hash < 0 ? -hash : hash);
  return non_negative % n;
}

}  // namespace kappa::broker::group
