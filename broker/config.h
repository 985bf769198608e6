// kappad's configuration: command-line flags, also readable from a TOML file
// (`--config kappa.toml`, keys named as the long flags without dashes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/format/result.h"
#include "storage/log_config.h"

namespace kappa::broker {

struct broker_config {
  int32_t node_id = 1;
  std::string listen = "127.0.0.1:9092";
  std::string data_dir = "./data";
  std::string metrics_listen = "127.0.0.1:9644";  // empty = no metrics endpoint
  std::string cluster_id = "kappa-local";

  // Cluster (issue 4). The internal listener serves broker-to-broker traffic
  // (Raft messages of every group, controller calls): service
  // kappa.internal.v1.Peer. `controller_voters` lists the __controller
  // group's voters as "id@host:port,..." (their internal addresses); empty =
  // this node alone: a one-node cluster, whose internal listener (port 0 by
  // default: any free port) nobody else dials.
  std::string internal_listen = "127.0.0.1:0";
  std::string controller_voters;
  // The client address other brokers hand out for this node (leader hints,
  // Metadata). Empty = `listen`.
  std::string advertised_listen;
  // Test-only storage mode: writes not fsynced are lost when the process is
  // killed (simulated power loss; see storage/power_loss_env.h).
  bool test_power_loss = false;

  // Topic defaults (each overridable per topic by its Kafka-named config).
  int32_t default_partitions = 1;
  int32_t default_replication_factor = 1;
  storage::log_config default_log;  // retention, segment, flush, max.message.bytes

  // Limits.
  size_t max_request_bytes = size_t{100} << 20;  // gRPC max receive message size
  size_t fetch_max_bytes = size_t{50} << 20;     // default and cap of a fetch response
  int32_t max_partitions_per_topic = 10000;
  int32_t max_partitions_total = 100000;
  int32_t produce_timeout_ms_default = 30000;
  int32_t fetch_max_wait_ms_max = 60000;  // longer long-polls are cut to this

  // Consumer groups (issue 5; broker/group/coordinator.h). The internal
  // topic __consumer_offsets is created on the first FindCoordinator that
  // needs it, with these figures (the replication factor is capped at the
  // live brokers then); the rest become each coordinator shard's options.
  int32_t offsets_topic_partitions = 16;
  int32_t offsets_topic_replication_factor = 3;
  int32_t group_session_timeout_default_ms = 45000;
  int32_t group_min_session_timeout_ms = 1000;
  int32_t group_max_session_timeout_ms = 300000;
  int32_t group_rebalance_timeout_default_ms = 60000;
  int32_t group_heartbeat_interval_ms = 500;
  int32_t group_max_size = 10000;
  int64_t offsets_retention_ms = int64_t{7} * 24 * 3600 * 1000;

  bool auto_create_topics = false;
  std::string log_level = "info";
  int32_t worker_threads = 0;  // 0 = one per core
  int32_t flush_threads = 4;   // threads that run fsyncs
};

// What parse_flags decided: run with `config`, or exit with `exit_code`
// (after --help, --version, or a bad flag; the message is already printed).
struct parse_outcome {
  broker_config config;
  bool should_exit = false;
  int exit_code = 0;
};

// Parses argv (and the --config TOML file, if given). Prints help or the
// error itself, as CLI11 does.
parse_outcome parse_flags(int argc, const char* const* argv);

// Checks cross-field rules the flag parser cannot (e.g. host:port shape).
Status validate(const broker_config& config);

}  // namespace kappa::broker
