#include "broker/config.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "storage/errc.h"

namespace kappa::broker {
namespace {

Status invalid(std::string message) {
  return storage::error(storage::errc::invalid_argument, std::move(message));
}

bool is_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  for (size_t i = colon + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return s.size() - colon - 1 <= 5 && std::stoi(s.substr(colon + 1)) <= 65535;
}

}  // namespace

parse_outcome parse_flags(int argc, const char* const* argv) {
  parse_outcome out;
  broker_config& c = out.config;
  CLI::App app{"kappad: the Kappa event-log broker (one process per node)", "kappad"};
  app.set_config("--config", "", "Read flags from this TOML file (keys = long flag names)");
  app.set_version_flag("--version", "kappad 0.1.0");

  app.add_option("--node-id", c.node_id, "This broker's id in the cluster")
      ->capture_default_str()->check(CLI::Range(0, 1 << 30));
  app.add_option("--listen", c.listen, "host:port the gRPC API listens on")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Directory holding the partition logs and metadata")
      ->capture_default_str();
  app.add_option("--metrics-listen", c.metrics_listen,
                 "host:port of the Prometheus metrics endpoint (empty = none)")
      ->capture_default_str();
  app.add_option("--cluster-id", c.cluster_id, "Cluster id reported by Metadata/DescribeCluster")
      ->capture_default_str();

  auto* topics = "Topic defaults";
  app.add_option("--internal-listen", c.internal_listen,
                 "host:port of the broker-to-broker listener (Raft, controller)")
      ->capture_default_str();
  app.add_option("--controller-voters", c.controller_voters,
                 "Controller quorum voters, id@host:port,... (their internal addresses); "
                 "empty = this node alone");
  app.add_option("--advertised-listen", c.advertised_listen,
                 "Client address other brokers hand out for this node (default: --listen)");
  app.add_flag("--test-power-loss", c.test_power_loss,
               "TEST ONLY: writes not fsynced are lost when the process is killed");
  app.add_option("--default-partitions", c.default_partitions,
                 "Partitions of a topic created without a count")
      ->capture_default_str()->check(CLI::Range(1, 10000))->group(topics);
  app.add_option("--default-replication-factor", c.default_replication_factor,
                 "Replication factor of a topic created without one (at most the live brokers)")
      ->capture_default_str()->check(CLI::Range(1, 32))->group(topics);
  app.add_option("--log-retention-ms", c.default_log.retention_ms,
                 "retention.ms: delete segments older than this (-1 = forever)")
      ->capture_default_str()->check(CLI::Range(int64_t{-1}, INT64_MAX))->group(topics);
  app.add_option("--log-retention-bytes", c.default_log.retention_bytes,
                 "retention.bytes: per-partition size limit (-1 = none)")
      ->capture_default_str()->check(CLI::Range(int64_t{-1}, INT64_MAX))->group(topics);
  app.add_option("--log-segment-bytes", c.default_log.segment_bytes,
                 "segment.bytes: roll the active segment past this size")
      ->capture_default_str()->check(CLI::Range(uint64_t{1} << 14, uint64_t{1} << 32))->group(topics);
  app.add_option("--log-segment-ms", c.default_log.segment_ms,
                 "segment.ms: roll an active segment older than this")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, INT64_MAX))->group(topics);
  std::map<std::string, storage::flush_policy> policies{
      {"always", storage::flush_policy::always}, {"interval", storage::flush_policy::interval}};
  app.add_option("--log-flush-policy", c.default_log.flush,
                 "flush.policy: always (fsync before acknowledging, group-committed) or interval")
      ->transform(CLI::CheckedTransformer(policies, CLI::ignore_case))
      ->default_str("always")->group(topics);
  app.add_option("--log-flush-interval-ms", c.default_log.flush_interval_ms,
                 "flush.ms: fsync period under flush.policy=interval")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40))->group(topics);

  auto* limits = "Limits";
  app.add_option("--max-message-bytes", c.default_log.max_batch_bytes,
                 "max.message.bytes: largest record batch accepted (topic default)")
      ->capture_default_str()->check(CLI::Range(size_t{64}, size_t{1} << 30))->group(limits);
  app.add_option("--max-request-bytes", c.max_request_bytes,
                 "Largest gRPC request accepted; larger ones fail with RESOURCE_EXHAUSTED")
      ->capture_default_str()->check(CLI::Range(size_t{1} << 10, size_t{1} << 31))->group(limits);
  app.add_option("--fetch-max-bytes", c.fetch_max_bytes,
                 "Default and largest record bytes of one fetch response")
      ->capture_default_str()->check(CLI::Range(size_t{1} << 10, size_t{1} << 30))->group(limits);
  app.add_option("--max-partitions-per-topic", c.max_partitions_per_topic,
                 "Partition count cap of one topic")
      ->capture_default_str()->check(CLI::Range(1, 100000))->group(limits);
  app.add_option("--max-partitions", c.max_partitions_total, "Partition count cap of the broker")
      ->capture_default_str()->check(CLI::Range(1, 1000000))->group(limits);

  auto* groups = "Consumer groups";
  app.add_option("--offsets-topic-partitions", c.offsets_topic_partitions,
                 "Partitions of __consumer_offsets (fixed once the topic exists)")
      ->capture_default_str()->check(CLI::Range(1, 1000))->group(groups);
  app.add_option("--offsets-topic-replication-factor", c.offsets_topic_replication_factor,
                 "Replication factor of __consumer_offsets (capped at the live brokers when it "
                 "is created)")
      ->capture_default_str()->check(CLI::Range(1, 32))->group(groups);
  app.add_option("--group-session-timeout-default-ms", c.group_session_timeout_default_ms,
                 "Session timeout of a member that asks for none")
      ->capture_default_str()->check(CLI::Range(1, 1 << 30))->group(groups);
  app.add_option("--group-min-session-timeout-ms", c.group_min_session_timeout_ms,
                 "Shortest session timeout a member may ask for (INVALID_SESSION_TIMEOUT below)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 30))->group(groups);
  app.add_option("--group-max-session-timeout-ms", c.group_max_session_timeout_ms,
                 "Longest session timeout a member may ask for (INVALID_SESSION_TIMEOUT above)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 30))->group(groups);
  app.add_option("--group-rebalance-timeout-default-ms", c.group_rebalance_timeout_default_ms,
                 "Time a member that asks for none has to release revoked partitions")
      ->capture_default_str()->check(CLI::Range(1, 1 << 30))->group(groups);
  app.add_option("--group-heartbeat-interval-ms", c.group_heartbeat_interval_ms,
                 "Heartbeat interval told to group members")
      ->capture_default_str()->check(CLI::Range(1, 1 << 30))->group(groups);
  app.add_option("--group-max-size", c.group_max_size,
                 "Most members of one group (GROUP_MAX_SIZE_REACHED beyond)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20))->group(groups);
  app.add_option("--offsets-retention-ms", c.offsets_retention_ms,
                 "Committed offsets of a group empty this long, or of a deleted topic, expire")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, INT64_MAX))->group(groups);

  app.add_flag("--auto-create-topics", c.auto_create_topics,
               "Create unknown topics on first produce or metadata request");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--worker-threads", c.worker_threads, "Partition worker threads (0 = one per core)")
      ->capture_default_str()->check(CLI::Range(0, 256));
  app.add_option("--flush-threads", c.flush_threads, "Threads that run fsyncs")
      ->capture_default_str()->check(CLI::Range(1, 64));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.should_exit = true;
    out.exit_code = app.exit(e);
    return out;
  }
  if (Status st = validate(c); !st.ok()) {
    std::cerr << "kappad: " << st.message() << "\n";
    out.should_exit = true;
    out.exit_code = 2;
  }
  return out;
}

Status validate(const broker_config& c) {
  if (!is_host_port(c.listen)) return invalid("--listen must be host:port, got '" + c.listen + "'");
  if (!c.metrics_listen.empty() && !is_host_port(c.metrics_listen)) {
    return invalid("--metrics-listen must be host:port or empty, got '" + c.metrics_listen + "'");
  }
  if (c.data_dir.empty()) return invalid("--data-dir must not be empty");
  if (c.default_partitions > c.max_partitions_per_topic) {
    return invalid("--default-partitions exceeds --max-partitions-per-topic");
  }
  if (c.group_min_session_timeout_ms > c.group_max_session_timeout_ms) {
    return invalid("--group-min-session-timeout-ms exceeds --group-max-session-timeout-ms");
  }
  if (c.group_session_timeout_default_ms < c.group_min_session_timeout_ms ||
      c.group_session_timeout_default_ms > c.group_max_session_timeout_ms) {
    return invalid("--group-session-timeout-default-ms must lie between the min and max session "
                   "timeouts");
  }
  if (c.default_log.max_batch_bytes > c.max_request_bytes) {
    return invalid("--max-message-bytes exceeds --max-request-bytes");
  }
  return Status();
}

}  // namespace kappa::broker
