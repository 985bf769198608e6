// One partition replica on this broker: its storage::log, the Raft group
// that replicates it (replication::raft_group), the high watermark, the
// idempotent-producer state and the waiters of long-poll fetches.
//
// REPLICATION (issue 4). Every partition is a Raft group over its replicas,
// even with one replica. Produce is accepted only on the leader; elsewhere it
// fails with errc::not_leader_or_follower whose message is the leader's node
// id as a decimal ("" when unknown); the API layer turns it into a
// LeaderHint with the leader's address. acks=all answers after commit (the
// high watermark passed the request's last offset); acks=1 after the
// leader's local persistence; a request not acknowledged within its timeout
// fails with errc::not_enough_replicas (acks=1: errc::request_timed_out; no
// replica is involved) — it may still commit later: the client retries,
// idempotence dedups. Entries truncated before commit (leadership lost) fail
// with errc::not_leader_or_follower. Producers may not write control
// batches (the Raft log uses them for its no-op and membership entries).
// The high watermark is the Raft commit index + 1; reads never pass it.
//
// Followers keep the producer state too (they observe the batches the
// leader replicates), so a new leader dedups retries of batches its
// predecessor appended. A divergence repair (on_truncate) rebuilds it from
// the snapshot and the log, as at open.
//
// Appends are serialised on the partition's strand (an Asio strand on the
// worker pool): validation, the producer-state check and the Raft proposal
// run there, never on a gRPC thread. The raft_group runs on the same strand
// and group-commits: under flush.policy=always one fsync at a time runs on
// the flush pool and covers every append written meanwhile. The storage log
// itself is therefore opened with flush_policy::interval and the group
// decides when an append is durable.
//
// Reads (read()) run on any thread, concurrently with appends, never past the
// high watermark.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/group/raft_group.h"
#include "storage/log.h"
#include "storage/log_manager.h"

namespace kappa::broker {

struct runtime;
class metrics;
struct partition_sample;

enum class acks_mode { none, leader, all };

struct produce_result {
  Status status;
  int64_t base_offset = -1;
  int64_t log_start_offset = -1;
};
using produce_callback = std::function<void(produce_result)>;

// Caps that bound what one partition holds in memory.
inline constexpr size_t kWaitersMax = 10000;       // long-poll fetches parked on it
inline constexpr size_t kPendingAcksMax = 100000;  // appends awaiting persistence or commit
inline constexpr int64_t kProduceTimeoutMsDefault = 30000;  // when produce() gets timeout_ms <= 0

inline constexpr int kTickMs = 50;  // the Raft tick: elections after 10-20 ticks

struct partition_options {
  storage::partition_id id;
  storage::log* log = nullptr;
  storage::log_config config;  // the topic's (with its real flush policy)
  int32_t self = 1;            // this broker's node id
  // A fresh replica's voters (the controller's replica set); ignored once the
  // replica has Raft state on disk. Empty: it joins as a learner and learns
  // the membership from the leader.
  std::vector<int32_t> replicas;
  bool preferred_leader = false;  // first in the replica set: campaigns at once when fresh
};

class partition : public std::enable_shared_from_this<partition> {
 public:
  // `o.log` is owned by the log_manager and outlives this partition (the
  // manager removes it only after close()). Files beside the log in its
  // directory: the producer-state snapshot, the Raft state and epoch cache.
  static Result<std::shared_ptr<partition>> open(const partition_options& o, runtime& rt,
                                                 metrics& m, storage::env& e,
                                                 replication::transport& net);
  ~partition();

  const storage::partition_id& id() const { return id_; }

  // Validates `records` (whole RecordBatch v2 batches) at records depth,
  // checks idempotent sequences and appends through Raft. `done` runs on a
  // worker thread once `acks` is satisfied, or with the error (see the top of
  // this file), at the latest after timeout_ms. For acks_mode::none the
  // caller does not wait, but `done` still runs (with the outcome, for
  // logging).
  void produce(std::string records, acks_mode acks, int64_t timeout_ms, produce_callback done);

  // Raft: a message from a peer (transport thread), and the broker-wide tick
  // (every kTickMs).
  void step(raft::message m);
  void tick();
  // Leader, epoch, membership, in-sync replicas: any thread.
  replication::group_status raft_status() const;
  // Cheap views of the same (atomics updated on every role change): the
  // leader's node id (-1 unknown), the leader epoch (Raft term; -1 before
  // the group has one) and whether this replica leads.
  int32_t leader_id() const { return leader_id_.load(std::memory_order_acquire); }
  int32_t leader_epoch() const { return leader_epoch_.load(std::memory_order_acquire); }
  bool is_leader() const { return is_leader_.load(std::memory_order_acquire); }
  // Leader only: moves leadership to `to` (rebalance-leaders).
  void transfer_leadership(int32_t to, std::function<void(Status)> done);
  // Leader only: moves the replica set one step toward `target` (add a
  // learner, promote it once caught up, remove one replica); done(ok) once
  // the membership equals target. Reassignment calls it until it does.
  void reassign_step(std::vector<int32_t> target, std::function<void(Result<bool>)> done);

  // Whole batches from the one containing `offset`, at most max_bytes (one
  // whole batch at least), never at or past the high watermark.
  // Errors: errc::offset_out_of_range (message gives the valid range) when
  // offset < log_start_offset() or offset > high_watermark().
  Result<storage::read_view> read(int64_t offset, size_t max_bytes) const;

  int64_t high_watermark() const { return high_watermark_.load(std::memory_order_acquire); }
  // After retire(), the accessors below answer -1/0 and reads fail with
  // UNKNOWN_TOPIC_OR_PARTITION.
  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  uint64_t size_bytes() const;
  int segment_count() const;
  storage::log_config config() const;

  // First offset with timestamp >= ts, capped at the high watermark.
  Result<std::optional<int64_t>> offset_for_timestamp(int64_t timestamp_ms) const;

  // Runs `wake` (once, on a worker thread) when the high watermark moves or
  // the broker shuts down. Returns 0 when kWaitersMax are parked already:
  // then the caller answers without waiting.
  uint64_t add_waiter(std::function<void()> wake);
  void remove_waiter(uint64_t id);
  // Wakes every waiter (shutdown).
  void wake_all();

  // Applies a new topic config (on the strand).
  void set_config(const storage::log_config& config);
  // Moves the log start (DeleteRecords); -1 = the high watermark. `done` gets
  // the new log start offset or the error. Leader only
  // (errc::not_leader_or_follower elsewhere). LIMITATION: followers keep
  // their own log start until retention removes the segments.
  void delete_records(int64_t before_offset, std::function<void(Result<int64_t>)> done);

  // Shuts the Raft group down: it stops taking messages, ticks and
  // proposals, and writes its state file. Blocks (up to ~10 s) for a strand
  // task: call it while the worker and flusher pools still run (first in a
  // clean shutdown), never on the partition's strand. Idempotent.
  void stop_replication();
  // Writes the producer-state snapshot (clean shutdown). REQUIRES: no
  // appends running (the worker pool has drained). Shuts the group down
  // first if stop_replication() was not called (then the group's strand
  // work runs inline: the pools are gone).
  Status save_producer_state();
  // Topic deletion: shuts the Raft group down (blocking, as
  // stop_replication: call it off the strand), then on the strand fails
  // pending appends, stops every later use of the log, runs `remove_log`
  // (which deletes it) and removes the producer-state snapshot. `done` runs
  // after.
  void retire(std::function<void()> remove_log, std::function<void()> done);

  // The metrics sample of this partition (offsets, sizes, leadership).
  partition_sample sample() const;

  struct pending_ack;

 private:
  partition(const partition_options& o, runtime& rt, metrics& m, storage::env& e);
  Status load_producer_state();
  replication::raft_group::listener make_listener();
  void produce_on_strand(std::string& records, acks_mode acks, int64_t timeout_ms,
                         produce_callback& done);
  void park_ack(acks_mode acks, int64_t last_offset, int64_t timeout_ms, produce_result result,
                produce_callback done);
  void on_commit(int64_t hw);
  void on_persisted(int64_t persisted_end);
  void on_role(const replication::group_status& st);
  void on_append(int64_t base_offset, byte_view batches);
  void on_truncate(int64_t from);
  void expire_acks();
  void fail_all_pending(const Status& st);
  void advance_high_watermark(int64_t hw);
  void sync_role();
  Status gone() const;
  Status not_leader() const;

  struct strand_holder;

  const storage::partition_id id_;
  storage::log* const log_;
  const int32_t self_;
  runtime& rt_;
  metrics& metrics_;
  storage::env& env_;
  const std::string snapshot_path_;
  std::unique_ptr<strand_holder> strand_;
  std::atomic<int64_t> high_watermark_{0};

  // Set once in open(), before the partition is shared; shut down by
  // retire(), save_producer_state() or the destructor.
  std::shared_ptr<replication::raft_group> group_;
  std::atomic<bool> group_stopped_{false};
  // Set by save_producer_state() when the pools are gone: the group's strand
  // tasks run inline on the caller.
  std::atomic<bool> strand_inline_{false};
  std::atomic<int32_t> leader_id_{-1};
  std::atomic<int32_t> leader_epoch_{-1};
  std::atomic<bool> is_leader_{false};
  std::atomic<size_t> pending_count_{0};  // lets tick() skip the strand when idle

  // Readers hold it shared while they use log_; retire() takes it exclusive
  // to set retired_, so no reader touches a removed log.
  mutable std::shared_mutex life_mu_;
  bool retired_ = false;

  mutable std::mutex config_mu_;
  storage::log_config config_;  // the topic's, with its real flush policy

  // Strand-only state.
  struct strand_state;
  std::unique_ptr<strand_state> s_;

  std::mutex waiters_mu_;
  uint64_t next_waiter_id_ = 1;
  std::map<uint64_t, std::function<void()>> waiters_;
};

// The storage config for a topic config: flush is always left to the
// Raft group's group commit (see above), so the log never fsyncs in append.
storage::log_config storage_config_for(const storage::log_config& topic_config);

}  // namespace kappa::broker
