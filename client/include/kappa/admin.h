// libkappa admin client: thin synchronous wrappers over the Admin service
// (and Broker.ListOffsets). Each call is one RPC (retried on transport
// failure with backoff within request_timeout_ms) and blocks until it ends.
// The outer Result fails for request-level errors (unreachable, invalid
// request); per-topic and per-partition outcomes carry their own Status.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kappa/client_config.h"
#include "kappa/error.h"
#include "kappa/types.h"

namespace kappa {

struct new_topic {
  std::string name;
  int32_t partitions = 0;          // 0 = broker default
  int32_t replication_factor = 0;  // 0 = broker default
  std::map<std::string, std::string> configs;
};

struct topic_status {
  std::string name;
  Status status;
};

struct partition_description {
  int32_t partition = 0;
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> in_sync_replicas;
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;
  int64_t log_end_offset = 0;
  int64_t size_bytes = 0;
  // Non-empty while a reassignment moves the replica set to this set.
  std::vector<int32_t> target_replicas;
};

struct topic_description {
  std::string name;
  Status status;
  bool is_internal = false;
  std::vector<partition_description> partitions;
};

struct config_entry {
  std::string name;
  std::string value;
  bool is_default = false;
  bool is_sensitive = false;
  std::string documentation;
};

struct topic_configs {
  std::string topic;
  Status status;
  std::vector<config_entry> entries;
};

// Incremental: only the named configs change.
struct config_change {
  std::string topic;
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;  // reset to the broker default
};

struct broker_description {
  int32_t id = -1;
  std::string address;
  bool alive = false;
};

struct cluster_description {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<broker_description> brokers;
};

struct delete_records_result {
  topic_partition tp;
  Status status;
  int64_t low_watermark = -1;
};

// One leadership transfer asked of `broker_id` by rebalance_leaders(). A
// broker that could not be asked at all appears once with an empty
// tp.topic and the failure in `status`.
struct leader_move {
  int32_t broker_id = -1;
  topic_partition tp;
  int32_t new_leader = -1;
  Status status;
};

struct listed_offset {
  topic_partition tp;
  Status status;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  int32_t leader_epoch = -1;
};

// Consumer groups (see proto/kappa/v1/group.proto).
struct group_listing {
  std::string group_id;
  std::string state;  // "Empty", "Assigning", "Reconciling", "Stable"
  int32_t members = 0;
  int32_t coordinator_id = -1;
};

struct group_member_description {
  std::string member_id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  int32_t member_epoch = -1;
  std::string state;  // "Stable", "Revoking", "Waiting"
  std::vector<std::string> subscribed_topics;
  std::string subscribed_pattern;
  std::vector<topic_partition> assignment;
  std::vector<topic_partition> target_assignment;
};

struct group_partition_offset {
  topic_partition tp;
  int64_t committed_offset = -1;  // -1: nothing committed
  int64_t high_watermark = -1;    // -1: unknown
  int64_t lag = -1;               // high_watermark - committed; -1: unknown
  std::string owner_member_id;    // "" when no member owns it
  std::string metadata;
};

struct group_description {
  std::string group_id;
  std::string state;
  std::string assignor;
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  int32_t coordinator_id = -1;
  int64_t rebalances = 0;
  std::vector<group_member_description> members;
  std::vector<group_partition_offset> offsets;  // sorted by topic, partition
};

struct partition_result {
  topic_partition tp;
  Status status;
};

class admin {
 public:
  static Result<std::unique_ptr<admin>> create(const client_config& config);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  Result<std::vector<topic_status>> create_topics(const std::vector<new_topic>& topics,
                                                  bool validate_only = false);
  Result<std::vector<topic_status>> delete_topics(const std::vector<std::string>& names);
  // Empty names = every topic. Each partition's log figures (log start, high
  // watermark, log end, size) come from its leader; -1 where no replica
  // that was asked holds it.
  Result<std::vector<topic_description>> describe_topics(const std::vector<std::string>& names,
                                                         bool include_internal = false);
  Result<std::vector<topic_configs>> describe_configs(const std::vector<std::string>& topics);
  Result<std::vector<topic_status>> alter_configs(const std::vector<config_change>& changes,
                                                  bool validate_only = false);
  Result<cluster_description> describe_cluster();
  // Moves the partition's replica set to `replicas` (the first becomes the
  // preferred leader). Returns once the controller recorded the target; the
  // move runs in the background: describe_topics shows target_replicas
  // until it is done.
  Status reassign_partition(const topic_partition& tp, const std::vector<int32_t>& replicas);
  // Asks every live broker to hand the partitions it leads to their
  // preferred replicas (when in sync); waits up to timeout_ms per broker.
  Result<std::vector<leader_move>> rebalance_leaders(int32_t timeout_ms = 10000);
  // Records below before_offset (-1 = the high watermark) are deleted.
  Result<std::vector<delete_records_result>> delete_records(
      const std::vector<std::pair<topic_partition, int64_t>>& before_offsets);
  // Per partition: kEarliestOffsetSpec, kLatestOffsetSpec, or a timestamp in
  // ms (first offset whose timestamp is >= it). Routed to each leader.
  Result<std::vector<listed_offset>> list_offsets(
      const std::vector<std::pair<topic_partition, int64_t>>& specs);

  // Consumer groups. Each call goes to the group's coordinator (found and
  // followed across NOT_COORDINATOR); list_groups asks every live broker.
  Result<std::vector<group_listing>> list_groups();
  // group_id_not_found for a group the coordinator does not know.
  Result<group_description> describe_group(const std::string& group_id);
  // non_empty_group while it has members; group_id_not_found if unknown.
  Status delete_group(const std::string& group_id);
  // Removes committed offsets; a partition of -1 stands for every partition
  // of the topic. group_subscribed_to_topic while a member subscribes to it.
  Result<std::vector<partition_result>> delete_group_offsets(const std::string& group_id,
                                                             const std::vector<topic_partition>& partitions);
  // Empty partitions = every partition the group has an offset for.
  Result<std::map<topic_partition, committed_offset>> fetch_group_offsets(
      const std::string& group_id, const std::vector<topic_partition>& partitions = {});
  // Commits offsets from outside the group (kappactl group reset-offsets):
  // refused as a whole with non_empty_group while the group has members.
  Result<std::vector<partition_result>> alter_group_offsets(const std::string& group_id,
                                                            const std::map<topic_partition, int64_t>& offsets);

  struct impl;

 private:
  explicit admin(std::unique_ptr<impl> impl);
  void fill_log_stats_from_leaders(std::vector<topic_description>& topics);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa
