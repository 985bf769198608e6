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

  struct impl;

 private:
  explicit admin(std::unique_ptr<impl> impl);
  void fill_log_stats_from_leaders(std::vector<topic_description>& topics);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa
