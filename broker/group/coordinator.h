// coordinator: the consumer-group coordinator runtime of one broker. It hosts
// a group_shard (broker/group/group_shard.h) for every partition of
// __consumer_offsets this broker leads and serves the kappa.v1.Group calls
// with them.
//
//  - The internal topic __consumer_offsets (--offsets-topic-partitions,
//    replication factor min(--offsets-topic-replication-factor, live
//    brokers), flush.policy=always, no retention: it holds the groups' whole
//    state) is created through the controller by the first FindCoordinator
//    that finds it missing, on whichever broker receives it.
//  - The coordinator of group G is the leader of partition
//    partition_for_group(G, N) of that topic, N its partition count in the
//    metadata image.
//  - Leadership is polled (every kPollMs): on becoming leader of a
//    partition (or a new epoch of it) a shard is created and loaded: once
//    the high watermark reaches the log end (the new term's first entry is
//    committed, so everything before it is), the partition is replayed from
//    its log start to the high watermark (control batches skipped), then
//    loaded(now). Meanwhile its groups answer COORDINATOR_LOAD_IN_PROGRESS.
//    A lost leadership (or a new epoch) drops the shard: its pending calls
//    answer NOT_COORDINATOR.
//  - Calls to one shard run one at a time on its strand. The records a call
//    emits are appended to the partition as RecordBatch v2 batches, acks=all;
//    the call is answered only once everything emitted up to and including
//    its own records is committed (calls that emit nothing wait for the
//    appends before them). A failed append answers every pending call with
//    COORDINATOR_NOT_AVAILABLE (retriable) and rebuilds the shard by replay.
//  - Every kTickMs each loaded shard gets tick() with the current topics
//    (non-internal topics of the metadata image) and its records are appended.
//  - DescribeGroup fills each partition's high watermark and lag (high
//    watermark - committed offset; - log start when nothing is committed):
//    from the local replica when this broker leads it, else from the leader
//    (ListOffsets, cached ~1 s; see high_watermarks.h).
//  - Metrics (broker/metrics.h, kappa_group_*) come from the loaded shards at
//    scrape time.
//
// Thread safety: every method may be called from any thread. The `done`
// callbacks run on a worker thread (never inside the calling method), exactly
// once, including after stop().
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kappa/v1/group.pb.h"

namespace kappa::broker {
class partition_manager;
}

namespace kappa::broker::group {

inline constexpr int kPollMs = 100;  // leadership changes of __consumer_offsets
inline constexpr int kTickMs = 250;  // group_shard::tick

class coordinator {
 public:
  // Starts the leadership poll and tick timer on pm's worker pool and
  // registers the group metrics. `pm` must outlive the coordinator's stop().
  static std::unique_ptr<coordinator> start(partition_manager& pm);
  // stop()s.
  ~coordinator();

  // Stops the timers, drops every shard (their pending calls answer
  // NOT_COORDINATOR) and unregisters the metrics; later calls answer
  // COORDINATOR_NOT_AVAILABLE. Call it before pm.close() (its timers run on
  // pm's pools). Idempotent.
  void stop();

  // BLOCKING (it may create the internal topic through the controller): call
  // it on the admin pool.
  v1::FindCoordinatorResponse find_coordinator(const std::string& group_id);

  // `host` is the member's address as the server saw it.
  void heartbeat(const v1::GroupHeartbeatRequest& req, std::string host,
                 std::function<void(v1::GroupHeartbeatResponse)> done);
  void commit_offsets(const v1::CommitOffsetsRequest& req,
                      std::function<void(v1::CommitOffsetsResponse)> done);
  void fetch_offsets(const v1::FetchOffsetsRequest& req,
                     std::function<void(v1::FetchOffsetsResponse)> done);
  void list_groups(const v1::ListGroupsRequest& req,
                   std::function<void(v1::ListGroupsResponse)> done);
  void describe_group(const v1::DescribeGroupRequest& req,
                      std::function<void(v1::DescribeGroupResponse)> done);
  void delete_group(const v1::DeleteGroupRequest& req,
                    std::function<void(v1::DeleteGroupResponse)> done);
  void delete_offsets(const v1::DeleteOffsetsRequest& req,
                      std::function<void(v1::DeleteOffsetsResponse)> done);

  struct impl;

 private:
  explicit coordinator(std::shared_ptr<impl> i);
  std::shared_ptr<impl> impl_;
};

// The error for a group id that cannot be one (empty, longer than 249
// bytes); ok (NONE) otherwise.
v1::ErrorCode check_group_id(const std::string& group_id, std::string* message);

}  // namespace kappa::broker::group
