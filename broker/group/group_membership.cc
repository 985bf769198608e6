// Membership (KIP-848): group_shard::heartbeat — joins, static takeovers,
// leaves, epochs and subscriptions. Reconciliation is in group_reconcile.cc.
#include <algorithm>
#include <cstdio>

#include "broker/group/group_codec.h"
#include "broker/group/group_state.h"

namespace kappa::broker::group {
namespace {

// Limits on what one member may send (a regex is compiled and run for
// every topic; a subscription is stored in every group record).
constexpr size_t kMaxPatternBytes = 1024;
constexpr int kMaxSubscribedTopics = 10000;

v1::GroupHeartbeatResponse failure(v1::ErrorCode code, std::string message) {
  v1::GroupHeartbeatResponse r;
  r.set_error_code(code);
  r.set_error_message(std::move(message));
  return r;
}

std::string make_member_id(std::mt19937_64& rng, const group_state& g) {
  for (;;) {
    uint64_t hi = rng();
    uint64_t lo = rng();
    hi = (hi & ~uint64_t{0xf000}) | 0x4000;                      // version 4
    lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // variant 10
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    std::string id(buf);
    if (g.members.count(id) == 0) return id;
  }
}

std::vector<std::string> sorted_topics(
    const google::protobuf::RepeatedPtrField<std::string>& topics) {
  std::vector<std::string> out(topics.begin(), topics.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool same_subscription(const member_state& m, const v1::GroupHeartbeatRequest& r) {
  return m.subscribed_pattern == r.subscribed_pattern() &&
         m.subscribed_topics == sorted_topics(r.subscribed_topics());
}

void set_subscription(member_state& m, const v1::GroupHeartbeatRequest& r,
                      std::shared_ptr<const std::regex> re) {
  m.subscribed_topics = sorted_topics(r.subscribed_topics());
  m.subscribed_pattern = r.subscribed_pattern();
  m.pattern = std::move(re);
}

}  // namespace

v1::GroupHeartbeatResponse group_shard::heartbeat(const v1::GroupHeartbeatRequest& request,
                                                  const std::string& host,
                                                  const topics_view& topics, int64_t now_ms,
                                                  records& out) {
  using v1::ErrorCode;
  const std::string& group_id = request.group_id();
  if (group_id.empty()) return failure(v1::INVALID_GROUP_ID, "group_id is empty");
  const int32_t epoch = request.member_epoch();
  auto git = state_->groups.find(group_id);
  group_state* g = git == state_->groups.end() ? nullptr : &git->second;
  const uint64_t fingerprint = topics_fingerprint(topics);
  auto wall_estimate = [&] {
    return state_->wall_minus_now ? now_ms + *state_->wall_minus_now : 0;
  };

  auto success = [&](const member_state& m) {
    v1::GroupHeartbeatResponse r;
    r.set_member_id(m.member_id);
    r.set_member_epoch(m.member_epoch);
    r.set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
    ps_to_proto(m.assigned, r.mutable_assignment());
    return r;
  };
  auto left = [&](int32_t left_epoch) {
    v1::GroupHeartbeatResponse r;
    r.set_member_id(request.member_id());
    r.set_member_epoch(left_epoch);
    r.set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
    return r;
  };

  if (epoch == -1) {
    // Leaving a group one is not in is done already.
    if (g == nullptr || g->members.count(request.member_id()) == 0) return left(-1);
    remove_member(*g, request.member_id());
    new_target(*g, topics, fingerprint);
    if (g->members.empty()) g->empty_since_ms = wall_estimate();
    emit_group(*g, out);
    return left(-1);
  }
  if (epoch == -2) {
    if (g == nullptr || g->members.count(request.member_id()) == 0) return left(-2);
    member_state& m = g->members.at(request.member_id());
    if (m.instance_id.empty()) {
      return failure(v1::INVALID_REQUEST,
                     "member_epoch -2 is for static members (with an instance_id)");
    }
    if (m.left_temporarily) return left(-2);  // a repeat does not extend its stay
    // The process is going away: it owns nothing from now on, but its target
    // stays reserved for its return until its session times out.
    m.left_temporarily = true;
    m.pending_revocation.clear();
    m.assigned = ps_intersect(m.assigned, target_of(*g, m.member_id));
    m.session_deadline_ms = now_ms + m.session_timeout_ms;
    emit_group(*g, out);
    return left(-2);
  }
  if (epoch < -2) return failure(v1::INVALID_REQUEST, "member_epoch must be >= -2");
  if (request.subscribed_topics_size() > kMaxSubscribedTopics) {
    return failure(v1::INVALID_REQUEST,
                   "more than " + std::to_string(kMaxSubscribedTopics) + " subscribed topics");
  }

  // Validation common to joins and subscription changes.
  std::shared_ptr<const std::regex> re;
  auto check_pattern = [&]() -> bool {
    if (request.subscribed_pattern().empty()) return true;
    if (request.subscribed_pattern().size() > kMaxPatternBytes) return false;
    re = compile_pattern(request.subscribed_pattern());
    return re != nullptr;
  };
  auto bad_pattern = [&] {
    const std::string& p = request.subscribed_pattern();
    if (p.size() > kMaxPatternBytes) {
      return failure(v1::INVALID_REQUEST, "subscribed_pattern has " + std::to_string(p.size()) +
                                              " bytes, at most " +
                                              std::to_string(kMaxPatternBytes) + " allowed");
    }
    return failure(v1::INVALID_REQUEST, "subscribed_pattern \"" + p + "\" does not compile");
  };
  if (!request.assignor().empty() && !known_assignor(request.assignor())) {
    return failure(v1::UNSUPPORTED_ASSIGNOR, "unknown assignor \"" + request.assignor() + "\"");
  }
  const bool group_has_members = g != nullptr && !g->members.empty();
  if (group_has_members && !request.assignor().empty() && request.assignor() != g->assignor) {
    return failure(v1::UNSUPPORTED_ASSIGNOR, "group " + group_id + " uses assignor \"" +
                                                 g->assignor + "\", not \"" + request.assignor() +
                                                 "\"");
  }

  if (epoch == 0) {
    int32_t session = request.session_timeout_ms();
    if (session == 0) session = options_.default_session_timeout_ms;
    if (session < options_.min_session_timeout_ms || session > options_.max_session_timeout_ms) {
      return failure(v1::INVALID_SESSION_TIMEOUT,
                     "session_timeout_ms " + std::to_string(session) + " is outside [" +
                         std::to_string(options_.min_session_timeout_ms) + ", " +
                         std::to_string(options_.max_session_timeout_ms) + "]");
    }
    int32_t rebalance = request.rebalance_timeout_ms();
    if (rebalance == 0) rebalance = options_.default_rebalance_timeout_ms;
    if (rebalance < 0) return failure(v1::INVALID_REQUEST, "rebalance_timeout_ms must be >= 0");
    if (!check_pattern()) {
      return bad_pattern();
    }
    // A static member that left for a while (-2) is taken over unchanged.
    member_state* away = nullptr;
    if (!request.instance_id().empty() && g != nullptr) {
      for (auto& [id, m] : g->members) {
        if (m.instance_id != request.instance_id()) continue;
        // Its own rejoin after being fenced: handled below as a fresh join.
        if (id == request.member_id()) break;
        if (!m.left_temporarily) {
          return failure(v1::UNRELEASED_INSTANCE_ID, "instance id " + request.instance_id() +
                                                         " is held by active member " + id);
        }
        away = &m;
        break;
      }
    }
    if (g == nullptr) {
      g = &state_->groups[group_id];
      g->group_id = group_id;
    }
    if (away != nullptr) {
      std::string old_id = away->member_id;
      auto node = g->members.extract(old_id);
      member_state& m = node.mapped();
      m.member_id = make_member_id(state_->rng, *g);
      node.key() = m.member_id;
      auto tnode = g->target.extract(old_id);
      partition_set target = tnode.empty() ? partition_set{} : std::move(tnode.mapped());
      g->target[m.member_id] = std::move(target);
      member_state& taken = g->members.insert(std::move(node)).position->second;
      taken.left_temporarily = false;
      taken.client_id = request.client_id();
      taken.host = host;
      taken.session_timeout_ms = session;
      taken.rebalance_timeout_ms = rebalance;
      taken.session_deadline_ms = now_ms + session;
      if (!same_subscription(taken, request)) {
        set_subscription(taken, request, re);
        new_target(*g, topics, fingerprint);
      } else {
        refresh_target(*g, topics, fingerprint);
      }
      const partition_set nothing;
      reconcile(*g, taken, &nothing, now_ms);
      emit_group(*g, out);
      return success(taken);
    }
    if (!request.member_id().empty() && g->members.count(request.member_id()) > 0) {
      // A fenced member rejoining: it let go of everything first.
      remove_member(*g, request.member_id());
    } else if (static_cast<int64_t>(g->members.size()) >= options_.max_group_size) {
      return failure(
          v1::GROUP_MAX_SIZE_REACHED,
          "group " + group_id + " has " + std::to_string(g->members.size()) + " members");
    }
    if (g->members.empty()) {
      g->assignor = request.assignor().empty() ? std::string("uniform") : request.assignor();
      g->empty_since_ms = 0;
    }
    member_state m;
    m.member_id = make_member_id(state_->rng, *g);
    m.instance_id = request.instance_id();
    m.client_id = request.client_id();
    m.host = host;
    set_subscription(m, request, re);
    m.session_timeout_ms = session;
    m.rebalance_timeout_ms = rebalance;
    m.session_deadline_ms = now_ms + session;
    std::string id = m.member_id;
    member_state& joined = g->members.emplace(id, std::move(m)).first->second;
    new_target(*g, topics, fingerprint);
    const partition_set nothing;
    reconcile(*g, joined, &nothing, now_ms);
    emit_group(*g, out);
    return success(joined);
  }

  // A member's heartbeat at its epoch.
  if (g == nullptr) return failure(v1::UNKNOWN_MEMBER_ID, "group " + group_id + " does not exist");
  auto mit = g->members.find(request.member_id());
  if (mit == g->members.end() || mit->second.left_temporarily) {
    if (!request.instance_id().empty()) {
      for (const auto& [id, other] : g->members) {
        if (other.instance_id == request.instance_id() && id != request.member_id()) {
          return failure(v1::FENCED_INSTANCE_ID,
                         "instance id " + request.instance_id() + " now belongs to member " + id);
        }
      }
    }
    return failure(v1::UNKNOWN_MEMBER_ID,
                   "member " + request.member_id() + " is not in group " + group_id);
  }
  member_state& m = mit->second;
  const partition_set owned = ps_from_proto(request.owned());
  // A response lost on its way: the member still sends the epoch before, and
  // owns no more than it is assigned now.
  const bool lost_response = epoch == m.previous_member_epoch && ps_subset(owned, m.assigned);
  if (epoch != m.member_epoch && !lost_response) {
    return failure(v1::FENCED_MEMBER_EPOCH, "member " + m.member_id + " is at epoch " +
                                                std::to_string(m.member_epoch) + ", not " +
                                                std::to_string(epoch));
  }
  bool changed = false;
  if (!same_subscription(m, request)) {
    if (!check_pattern()) {
      return bad_pattern();
    }
    set_subscription(m, request, re);
    new_target(*g, topics, fingerprint);
    changed = true;
  } else {
    changed = refresh_target(*g, topics, fingerprint);
  }
  m.session_deadline_ms = now_ms + m.session_timeout_ms;
  changed = reconcile(*g, m, &owned, now_ms) || changed;
  if (changed) emit_group(*g, out);
  return success(m);
}

}  // namespace kappa::broker::group
