// group_shard: the consumer groups of one __consumer_offsets partition, as
// a pure state machine (no threads, clocks, sockets or files; time is a
// parameter). The coordinator runtime (broker/group/coordinator.h) owns one
// shard per partition this broker leads, feeds it requests, appends the
// records it emits, and answers only once they are committed.
//
// Membership follows KIP-848 (see proto/kappa/v1/group.proto):
// - group_epoch is bumped by every change that needs a new assignment
//   (a member joins, leaves or is removed; a subscription changes; a
//   subscribed topic appears, grows or disappears);
// - the target assignment is computed by the group's assignor
//   (broker/group/assignor.h) for group_epoch and becomes assignment_epoch;
// - each member then reconciles toward its target, one heartbeat at a time:
//   * Revoking: it owns partitions outside its target. Its assignment is
//     cut to (owned ∩ target) and it keeps its epoch until a heartbeat's
//     `owned` shows it let go of the rest (or rebalance_timeout_ms passes:
//     it is fenced and removed);
//   * then its epoch becomes assignment_epoch and it is given its target
//     minus partitions that another member still owns or is revoking
//     (Waiting), which it gets on a later heartbeat once released;
//   * Stable once its assignment equals its target.
//   So a partition never has two owners, and partitions not being moved
//   stay with their owners throughout.
// - A heartbeat with member_epoch 0 joins (a new member id is made, unless
//   instance_id names a static member that left temporarily: that member is
//   taken over with its epoch and assignment, and no rebalance happens).
//   Joining with the instance id of a member that is still active:
//   UNRELEASED_INSTANCE_ID. A heartbeat whose epoch is not the member's:
//   FENCED_MEMBER_EPOCH (the member must rejoin with 0); unknown member id:
//   UNKNOWN_MEMBER_ID. -1 leaves (partitions reassigned at once); -2 (static
//   members only) leaves temporarily, keeping the assignment until the
//   session timeout.
// - A member that sends no heartbeat for its session timeout is removed by
//   tick(). So is a Revoking member past its rebalance timeout.
// - Commits: a member's commit must carry its current member_epoch
//   (STALE_MEMBER_EPOCH for an older one, UNKNOWN_MEMBER_ID for a removed
//   member: a zombie's commit changes nothing). A commit with an empty
//   member_id and epoch -1 comes from an admin and is refused with
//   NON_EMPTY_GROUP while the group has members.
// - Offsets of deleted topics, and all offsets of a group that has been
//   empty for offsets_retention_ms, expire in tick() (tombstones).
//
// Durability: every state change is emitted as records (see
// proto/kappa/internal/v1/group_records.proto): the group's whole
// GroupMetadataValue after a membership/assignment change, an
// OffsetCommitValue per committed partition, tombstones for deletions. The
// shard's in-memory state runs ahead of the log by the records it returned
// and the runtime has not yet seen committed; the runtime must append them in
// order, answer a request only once everything emitted up to and including
// that request's records is committed, and drop the shard (rebuilding it by
// replay) if it loses leadership or an append fails. replay() of the records
// in log order rebuilds the same state (member liveness excepted: after
// loaded(now) every member's session restarts at `now`).
//
// Not thread-safe: the runtime serializes calls per shard.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/group/assignor.h"
#include "kappa/v1/group.pb.h"
#include "proto/format/result.h"

namespace kappa::broker::group {

struct shard_options {
  int32_t default_session_timeout_ms = 45000;
  int32_t min_session_timeout_ms = 1000;
  int32_t max_session_timeout_ms = 300000;
  int32_t default_rebalance_timeout_ms = 60000;
  int32_t heartbeat_interval_ms = 500;  // told to members (KIP-848: 5000; 500 settles a join within 1 s)
  int32_t max_group_size = 10000;
  int64_t offsets_retention_ms = int64_t{7} * 24 * 3600 * 1000;  // Kafka's default
  size_t max_metadata_bytes = 4096;
  // Seed of the member-id generator; 0 = from std::random_device. Tests set
  // it so that a seeded run is reproducible.
  uint64_t id_seed = 0;
};

// What the shard needs of the cluster's metadata: every topic that exists,
// with its partition count (internal topics excluded).
struct topics_view {
  std::map<std::string, int32_t> partitions;
};

// One record for __consumer_offsets: key and value bytes as
// group_records.proto defines them; no value = tombstone.
struct shard_record {
  std::string key;
  std::optional<std::string> value;
};
using records = std::vector<shard_record>;

// Figures for metrics, per group.
struct group_stats {
  std::string group_id;
  std::string state;
  int32_t members = 0;
  int64_t rebalances = 0;
  // committed offset per partition
  std::map<std::pair<std::string, int32_t>, int64_t> committed;
};

class group_shard {
 public:
  explicit group_shard(shard_options options = {});
  ~group_shard();
  group_shard(const group_shard&) = delete;
  group_shard& operator=(const group_shard&) = delete;

  // --- rebuilding -------------------------------------------------------
  // Applies one record read from the partition, in offset order. A record
  // whose key or value does not parse is an error (the caller logs it and
  // skips it; the rest of the state is still rebuilt).
  Status replay(std::string_view key, std::optional<std::string_view> value);
  // Replay is over: sessions start counting from now_ms.
  void loaded(int64_t now_ms);

  // --- requests (the *_response messages are complete answers, except
  // the coordinator hint, which the runtime fills) ------------------------
  // `host` is the member's address as the server saw it.
  v1::GroupHeartbeatResponse heartbeat(const v1::GroupHeartbeatRequest& request, const std::string& host,
                                       const topics_view& topics, int64_t now_ms, records& out);
  v1::CommitOffsetsResponse commit(const v1::CommitOffsetsRequest& request, const topics_view& topics,
                                   int64_t now_ms, int64_t wall_ms, records& out);
  v1::FetchOffsetsResponse fetch_offsets(const v1::FetchOffsetsRequest& request) const;
  // High watermarks and lag are left -1: the runtime fills them in.
  v1::DescribeGroupResponse describe(const v1::DescribeGroupRequest& request) const;
  // Appends this shard's groups matching the request's state filter.
  void list(const v1::ListGroupsRequest& request, v1::ListGroupsResponse& out) const;
  v1::DeleteGroupResponse delete_group(const v1::DeleteGroupRequest& request, records& out);
  v1::DeleteOffsetsResponse delete_offsets(const v1::DeleteOffsetsRequest& request, records& out);

  // --- time and metadata ------------------------------------------------
  // Removes members past their session (or revocation) deadline, moves
  // groups to a new target assignment when the topics they subscribe to
  // changed, and expires offsets (wall_ms is the wall clock, for retention).
  void tick(const topics_view& topics, int64_t now_ms, int64_t wall_ms, records& out);

  bool has_group(const std::string& group_id) const;
  std::vector<group_stats> stats() const;

  struct state;

 private:
  shard_options options_;
  std::unique_ptr<state> state_;
};

// The group's partition of __consumer_offsets: Java's String.hashCode over
// the id's bytes, made non-negative as Kafka's Utils.abs does, mod n.
int32_t partition_for_group(std::string_view group_id, int32_t n);

}  // namespace kappa::broker::group
