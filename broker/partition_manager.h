// The broker's state on one node: the log manager, the topic store, the
// partitions of every topic, producer ids, the thread pools and metrics.
// API handlers reach everything through it.
//
// Startup (open): takes the data dir lock (through storage::log_manager: a
// second kappad on the same dir fails here with the lock holder's pid),
// loads topics, opens one partition per (topic, partition) and removes
// partition directories of topics that no longer exist (a delete
// interrupted by a crash). Shutdown: begin_shutdown() wakes long-polls;
// close() drains the pools, writes producer-state snapshots and closes the
// logs cleanly.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/partition.h"
#include "broker/topic_store.h"
#include "proto/format/result.h"

namespace kappa::broker {

class metrics;
class producer_ids;

struct create_topic_request {
  std::string name;
  int32_t partitions = 0;          // 0 = default
  int32_t replication_factor = 0;  // 0 = default
  topic_overrides configs;
  bool validate_only = false;
};

class partition_manager {
 public:
  static Result<std::unique_ptr<partition_manager>> open(const broker_config& config, metrics& m);
  ~partition_manager();

  const broker_config& config() const { return config_; }
  runtime& rt() { return *rt_; }
  metrics& stats() { return metrics_; }
  bool shutting_down() const;

  // nullptr when the topic or partition does not exist.
  std::shared_ptr<partition> get(const std::string& topic, int32_t p) const;
  std::optional<topic_info> topic(const std::string& name) const;
  std::vector<topic_info> topics() const;
  std::vector<std::shared_ptr<partition>> partitions_of(const std::string& topic) const;

  // Errors (broker errc): invalid_topic, topic_already_exists,
  // invalid_partitions, invalid_replication_factor, invalid_config,
  // policy_violation (broker-wide partition cap); storage errors.
  Status create_topic(const create_topic_request& req);
  // Creates `name` with the defaults when auto-create is on and the name is
  // valid; ok when it exists afterwards (possibly made by someone else).
  Status auto_create(const std::string& name);
  Status delete_topic(const std::string& name);
  // Incremental change: `set` added/replaced, `remove` reset to defaults.
  Status alter_configs(const std::string& name, const topic_overrides& set,
                       const std::vector<std::string>& remove, bool validate_only);

  Result<int64_t> allocate_producer_id();

  // Where the leader of `topic`/`p` is, as this broker knows it (its own
  // replica's Raft state first, else the controller's leader table): for
  // NOT_LEADER_OR_FOLLOWER answers. id -1 / empty address when unknown.
  struct leader_hint {
    int32_t id = -1;
    std::string address;  // the leader's client address
    int32_t epoch = -1;
  };
  leader_hint leader_of(const std::string& topic, int32_t p) const;

  // Wakes every long-poll and marks the broker as stopping.
  void begin_shutdown();
  // REQUIRES: the gRPC server has stopped. Drains the pools, snapshots
  // producer states, closes every log cleanly.
  Status close();

 private:
  partition_manager(const broker_config& config, metrics& m);
  Status open_topic(const topic_info& t);

  struct impl;
  broker_config config_;
  metrics& metrics_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::broker
