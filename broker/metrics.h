// Prometheus metrics of kappad, exposed in text format on --metrics-listen by
// prometheus-cpp's pull exposer. prometheus-cpp stays inside metrics.cc.
//
//  kappa_requests_total{api,code}          counter
//  kappa_request_latency_seconds{api}      histogram
//  kappa_bytes_in_total / kappa_bytes_out_total   record bytes produced / fetched
//  kappa_fsync_latency_seconds             histogram
//  kappa_partition_log_start_offset{topic,partition}, ..._log_end_offset,
//  ..._high_watermark, kappa_partition_open_segments, kappa_partition_size_bytes
//  kappa_partition_leader{topic,partition}        leader's node id (-1 unknown)
//  kappa_partition_leader_epoch{topic,partition}  Raft term of that leadership
//  kappa_under_replicated_partitions       partitions led here with fewer
//                                          in-sync replicas than voters
//  kappa_leader_elections_total            times a replica here became leader
//  kappa_process_resident_memory_bytes     (from /proc/self/statm at scrape)
//
// Consumer groups, exported by the coordinator of each group (so a scrape of
// every broker sees every group once):
//  kappa_group_committed_offset{group,topic,partition}
//  kappa_group_lag{group,topic,partition}  high watermark - committed offset
//                                          (absent while either is unknown)
//  kappa_group_state{group,state}          1 for the group's current state
//  kappa_group_members{group}
//  kappa_group_rebalances_total{group}     target assignment changes since
//                                          this broker loaded the group
//  kappa_group_commit_latency_seconds      CommitOffsets, request to answer
//                                          (after the commit on the log)
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"

namespace kappa::broker {

enum class api { produce, produce_stream, fetch, fetch_stream, list_offsets, metadata,
                 init_producer_id, create_topics, delete_topics, describe_topics,
                 describe_configs, alter_configs, describe_cluster, delete_records,
                 find_coordinator, group_heartbeat, commit_offsets, fetch_offsets, list_groups,
                 describe_group, delete_group, delete_offsets, count_ };

const char* api_name(api a);

struct partition_sample {
  std::string topic;
  int32_t partition = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;
  int64_t segments = 0;
  int64_t size_bytes = 0;
  int32_t leader = -1;        // node id, -1 unknown
  int32_t leader_epoch = -1;  // Raft term
  bool is_leader = false;     // this broker leads it
  int32_t voters = 0;         // leader only: voters of the group
  int32_t in_sync = 0;        // leader only: voters within one batch of the log end
};

// One consumer group as its coordinator sees it at a scrape.
struct group_sample {
  struct offset {
    std::string topic;
    int32_t partition = 0;
    int64_t committed = -1;
    int64_t lag = -1;  // -1 = unknown (not exported)
  };
  std::string group_id;
  std::string state;
  int32_t members = 0;
  int64_t rebalances = 0;
  std::vector<offset> offsets;
};

class metrics {
 public:
  // Starts the exposer on `listen` ("host:port"); empty = keep metrics but
  // serve nothing. Fails when the port cannot be bound.
  static Result<std::unique_ptr<metrics>> start(const std::string& listen);
  ~metrics();

  // `grpc_code` is the gRPC status code the call finished with.
  void request(api a, double seconds, int grpc_code);
  void bytes_in(uint64_t n);
  void bytes_out(uint64_t n);
  void fsync(double seconds);
  // A replica on this broker became leader of its group.
  void leader_elected();
  // Called at each scrape for the per-partition gauges.
  void set_partition_source(std::function<std::vector<partition_sample>()> source);
  // Called at each scrape for the consumer group metrics (nullptr = none).
  void set_group_source(std::function<std::vector<group_sample>()> source);
  // One CommitOffsets answered successfully after `seconds`.
  void group_commit(double seconds);

  struct impl;

 private:
  explicit metrics(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::broker
