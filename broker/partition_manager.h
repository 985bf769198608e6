// The broker's state on one node: the log manager, the partition replicas
// this broker hosts, the cluster machinery (transport, controller, internal
// gRPC listener), producer ids, the thread pools and metrics. API handlers
// reach everything through it.
//
// CLUSTER (issue 4). Every kappad is a cluster member; without
// --controller-voters it is a one-node cluster whose only controller voter is
// itself (at its internal listener's bound address). The controller's
// metadata image is the source of truth for topics, their configs and
// replica sets: there is no other topic store.
//  - Startup (open): takes the data dir lock (through storage::log_manager: a
//    second kappad on the same dir fails here with the lock holder's pid),
//    starts the transport, the controller (its log lives in
//    `<data_dir>/__kappa/controller/`) and the internal gRPC listener
//    (services Peer and Controller), one broker-wide tick thread (every
//    kTickMs: the controller and every replica) and the reconciler thread.
//  - The reconciler applies each new image: it opens a replica (creating its
//    log) for every partition whose replicas or reassignment target include
//    this broker, retires and deletes replicas that no longer belong here
//    (topic deleted, re-created under a new id, or moved away), pushes config
//    changes, and, every ~200 ms, drives the reassignments of partitions this
//    broker leads (partition::reassign_step until done, then
//    complete_reassign_command).
//  - Each partition directory holds a `topic_id` marker (the image's topic
//    id). A directory whose topic id the image has seen (id <
//    next_topic_id) but no longer holds is deleted; so is one whose marker
//    names an older incarnation of a re-created topic. Directories of topics
//    the image has not seen yet are left alone (the image may still be
//    catching up).
//  - Admin calls (create/delete/alter, reassignment, producer id blocks) are
//    validated here, submitted to the controller and answered after commit,
//    then wait (bounded) until the local state reflects them.
// Shutdown: begin_shutdown() wakes long-polls; close() stops the threads and
// the cluster machinery, drains the pools, writes producer-state snapshots
// and closes the logs cleanly.
//
// Thread safety: every method may be called from any thread. Methods marked
// "blocking" wait for the controller: call them off the gRPC threads (the
// admin pool).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/partition.h"
#include "broker/topic_config.h"
#include "proto/format/result.h"
#include "replication/controller/controller.h"

namespace kappa::broker {

class metrics;

// A topic as the image knows it.
struct topic_info {
  std::string name;
  int32_t partitions = 0;
  int32_t replication_factor = 1;
  topic_overrides configs;
  bool operator==(const topic_info&) const = default;
};

struct create_topic_request {
  std::string name;
  int32_t partitions = 0;          // 0 = default
  int32_t replication_factor = 0;  // 0 = default
  topic_overrides configs;
  bool validate_only = false;
  // Set only by the broker itself for a reserved topic (topic_name.h:
  // __consumer_offsets); clients cannot create those.
  bool internal = false;
};

class partition_manager {
 public:
  static Result<std::unique_ptr<partition_manager>> open(const broker_config& config, metrics& m);
  ~partition_manager();

  const broker_config& config() const { return config_; }
  runtime& rt() { return *rt_; }
  metrics& stats() { return metrics_; }
  bool shutting_down() const;

  // The local replica; nullptr when this broker hosts none for it.
  std::shared_ptr<partition> get(const std::string& topic, int32_t p) const;
  // From the metadata image.
  std::optional<topic_info> topic(const std::string& name) const;
  std::vector<topic_info> topics() const;
  // The local replicas of `topic`, in partition order (a broker hosts only
  // the partitions whose replica set includes it).
  std::vector<std::shared_ptr<partition>> partitions_of(const std::string& topic) const;

  // Blocking. Errors (broker errc): invalid_topic (also a reserved name
  // without req.internal), topic_already_exists,
  // invalid_partitions, invalid_replication_factor (more replicas than live
  // brokers), invalid_config, policy_violation (cluster-wide partition cap),
  // request_timed_out / not_controller (no controller answered in time).
  Status create_topic(const create_topic_request& req);
  // Creates `name` with the defaults when auto-create is on and the name is
  // valid; ok when it exists afterwards (possibly made by someone else).
  Status auto_create(const std::string& name);
  // Errors: invalid_topic for a reserved topic, unknown_topic_or_partition.
  Status delete_topic(const std::string& name);
  // Incremental change: `set` added/replaced, `remove` reset to defaults.
  Status alter_configs(const std::string& name, const topic_overrides& set,
                       const std::vector<std::string>& remove, bool validate_only);
  // Blocking: moves a partition's replica set to `replicas` (online, driven
  // by the partition leader). Answers once the controller recorded the
  // target, not when the move is done (watch the image for that).
  Status reassign(const std::string& topic, int32_t p, const std::vector<int32_t>& replicas);
  // Blocking: transfers the leadership of every partition this broker leads
  // whose preferred replica (replicas[0]) is in sync and not the leader.
  struct leader_move {
    std::string topic;
    int32_t partition = 0;
    int32_t to = -1;
    Status status;
  };
  std::vector<leader_move> rebalance_leaders(int64_t timeout_ms);

  // Blocking (a new block from the controller now and then).
  Result<int64_t> allocate_producer_id();

  // The cluster as this broker sees it.
  controller::cluster_view view() const;
  int32_t self() const { return config_.node_id; }
  // The client address of broker `id` from the image ("" when unknown).
  std::string client_address(int32_t id) const;

  // Where the leader of `topic`/`p` is, as this broker knows it (its own
  // replica's Raft state first, else the controller's leader table): for
  // NOT_LEADER_OR_FOLLOWER answers. id -1 / empty address when unknown.
  struct leader_hint {
    int32_t id = -1;
    std::string address;  // the leader's client address
    int32_t epoch = -1;
  };
  leader_hint leader_of(const std::string& topic, int32_t p) const;

  // A partition's leader, epoch, replicas and in-sync replicas for Metadata
  // and DescribeTopics: the local replica's Raft state when it knows the
  // leader, else the controller's leader table; replicas from the image.
  struct partition_state {
    int32_t leader = -1;
    int32_t epoch = -1;
    std::vector<int32_t> replicas;
    std::vector<int32_t> in_sync;
  };
  partition_state state_of(const controller::cluster_view& v, const std::string& topic,
                           int32_t p) const;
  // Brokers for Metadata/DescribeCluster: the image's, plus this broker
  // while it is not registered yet.
  struct broker_state {
    int32_t id = 0;
    std::string address;
    bool live = false;
  };
  std::vector<broker_state> brokers(const controller::cluster_view& v) const;

  // Wakes every long-poll and marks the broker as stopping.
  void begin_shutdown();
  // REQUIRES: the client gRPC server has stopped. Stops the cluster
  // machinery, drains the pools, snapshots producer states, closes every log
  // cleanly.
  Status close();

  struct impl;

 private:
  partition_manager(const broker_config& config, metrics& m);

  broker_config config_;
  metrics& metrics_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::broker
