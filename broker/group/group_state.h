// group_state: the in-memory state of a group_shard (internal to
// broker/group/group_*.cc). What is persisted is exactly what
// group_codec writes into GroupMetadataValue / OffsetCommitValue; the
// fields marked "volatile" are rebuilt by loaded() and never written.
//
// Invariants (the seeded simulation in tests/broker/group checks them from
// describe() and from what simulated members own):
// - a partition is in at most one member's `assigned ∪ pending_revocation`;
// - `assigned ∩ pending_revocation = ∅` for every member, and
//   `pending_revocation ∩ target = ∅` after each reconciliation step;
// - target keys = members keys; assignment_epoch <= group_epoch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/group/assignor.h"
#include "broker/group/group_shard.h"

namespace kappa::broker::group {

struct offset_entry {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
};

using topic_partition = std::pair<std::string, int32_t>;

struct member_state {
  std::string member_id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::string> subscribed_topics;
  std::string subscribed_pattern;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  int32_t member_epoch = 0;
  int32_t previous_member_epoch = 0;
  partition_set assigned;            // what it may own now
  partition_set pending_revocation;  // told to let go, not yet confirmed
  bool left_temporarily = false;     // static member gone for a while (-2)

  // volatile
  int64_t session_deadline_ms = 0;
  int64_t revocation_deadline_ms = 0;         // meaningful while pending_revocation is non-empty
  std::shared_ptr<const std::regex> pattern;  // compiled subscribed_pattern (lazily after replay)
};

struct group_state {
  std::string group_id;
  std::string assignor;  // "" until a first member joined
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  std::map<std::string, member_state> members;  // by member id
  std::map<std::string, partition_set> target;  // of assignment_epoch, by member id
  int64_t rebalances = 0;
  int64_t empty_since_ms = 0;  // wall clock; 0 = has members, or not known yet
  std::map<topic_partition, offset_entry> offsets;

  // volatile: the topics_view fingerprint the target was last checked against
  // (0 = check on the next heartbeat or tick).
  uint64_t topics_checked = 0;
};

struct group_shard::state {
  std::map<std::string, group_state> groups;
  std::mt19937_64 rng;
  // wall_ms - now_ms as seen by the latest call that had both, to date a
  // group's emptiness from a heartbeat (which only has the monotonic clock).
  std::optional<int64_t> wall_minus_now;
  // Offsets expiry runs at most once a second (wall clock), not every tick.
  int64_t expired_at_wall_ms = 0;
};

// --- partition_set algebra ----------------------------------------------
bool ps_empty(const partition_set& s);
bool ps_contains(const partition_set& s, const std::string& topic, int32_t partition);
partition_set ps_union(const partition_set& a, const partition_set& b);
partition_set ps_minus(const partition_set& a, const partition_set& b);
partition_set ps_intersect(const partition_set& a, const partition_set& b);
bool ps_subset(const partition_set& a, const partition_set& b);  // a ⊆ b
size_t ps_size(const partition_set& s);
// Drops empty topic entries so that equal sets compare equal.
void ps_normalize(partition_set& s);
partition_set ps_from_proto(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& in);
void ps_to_proto(const partition_set& s,
                 google::protobuf::RepeatedPtrField<v1::TopicPartitions>* out);

// --- subscriptions (group_subscription.cc) -------------------------------
// Compiles an ECMAScript pattern; nullptr when it does not compile.
std::shared_ptr<const std::regex> compile_pattern(const std::string& pattern);
// The topics of `view` the member subscribes to: its named topics that exist,
// and every non-internal topic its pattern matches in full.
std::set<std::string> resolve_subscription(member_state& m, const topics_view& view);
// Whether the member's subscription names or matches `topic`.
bool subscribes_to(member_state& m, const std::string& topic);
uint64_t topics_fingerprint(const topics_view& view);

// --- reconciliation and targets (group_reconcile.cc) ---------------------
// The member's target of assignment_epoch (empty when it has none).
const partition_set& target_of(const group_state& g, const std::string& member_id);
// One reconciliation step of member `m` toward its target; `owned` is what
// the member reported owning (nullptr: nothing reported). Returns whether
// persisted state changed.
bool reconcile(group_state& g, member_state& m, const partition_set* owned, int64_t now_ms);
// Bumps the group epoch and computes a new target assignment. `fingerprint`
// is topics_fingerprint(view), computed once per request or tick.
void new_target(group_state& g, const topics_view& view, uint64_t fingerprint);
// Computes a new target when the topics its members subscribe to changed
// since the last check. Returns whether it did.
bool refresh_target(group_state& g, const topics_view& view, uint64_t fingerprint);
// Removes a member (leave, session or rebalance timeout); the caller then
// calls new_target.
void remove_member(group_state& g, const std::string& member_id);
// Partitions some member other than `except` owns or is revoking.
partition_set owned_by_others(const group_state& g, const std::string& except);

// --- describe helpers (group_shard.cc) -----------------------------------
std::string group_state_name(const group_state& g);
std::string member_state_name(const group_state& g, const member_state& m);

}  // namespace kappa::broker::group
