// replication::raft_group — the runner of one Raft group on one broker: it
// drives a raft::node (replication/raft) over a storage::log (the partition
// log IS the Raft log) and the broker's transport.
//
// Mapping:
//  - one entry = one RecordBatch v2; entry [base_index, last_index] = the
//    batch's offsets; entry term = the batch's partitionLeaderEpoch.
//  - the no-op a new leader appends is a Kafka control batch (one control
//    record, type 2 LEADER_CHANGE); a membership change is a control batch of
//    type 6 (KRAFT_VOTERS) whose value holds the config. Consumers skip both.
//  - term(i) comes from an epoch cache (epoch -> start offset, Kafka's
//    leader-epoch-checkpoint) kept beside the log and rebuilt from batch
//    headers if missing or damaged.
//  - the hard state (term, vote, commit) and the last committed membership
//    (conf, conf_index) live in one atomically written, checksummed metadata
//    file (storage::write_metadata_file). term/vote are written and fsynced
//    before any message that depends on them leaves; commit is written with
//    them and at least every second (a lower commit after a restart is safe:
//    the node relearns it).
//
// The ready/advance cycle (see raft.h) runs on the group's strand; the fsync
// of step 1 runs on the flusher executor; while it is in flight, incoming
// messages, ticks and proposals queue and are handled together after
// advance (so one fsync covers them all: group commit). With durable=false
// (flush.policy=interval) entries are written but not fsynced before acks
// and votes; term/vote are always fsynced.
//
// Divergence: a follower truncates back to where its log matches the
// leader's, never below commit (the core guarantees it; the runner asserts
// it). A follower behind the leader's log start drops its log and restarts
// it empty at the leader's log start. A log whose recovery found corruption
// (storage::log status) is truncated at the damage and the node rejoins
// without voting or campaigning until its log again reaches the end it had
// before the damage (Protocol-Aware Recovery): committed data is refetched
// from peers, never dropped from the group.
//
// Thread safety: create()/step()/tick()/shutdown() and the accessors marked
// "any thread" may be called from any thread; everything else only on the
// strand (from a listener callback, or through post()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/raft/types.h"
#include "replication/transport/transport.h"
#include "storage/env.h"
#include "storage/log.h"

namespace kappa::replication {

// Runs a task: the group's strand (serial) or the flusher pool.
using executor_fn = std::function<void(std::function<void()>)>;

struct group_options {
  group_name name;
  raft::node_id self;
  // Owned by the caller; outlives the group. Give it flush_policy::interval:
  // the group fsyncs on the flusher (under `always` every append would also
  // fsync inline on the strand). A log whose status() is the corruption
  // found at open is repaired by create() (storage::log::repair_corruption).
  storage::log* log = nullptr;
  storage::env* env = nullptr;
  std::string state_path;        // the hard-state file
  std::string epoch_cache_path;  // the epoch cache file
  // A fresh group (no state file): its voters, e.g. the partition's replica
  // set from the controller. A node joining an existing group passes an
  // empty config: it learns the membership from the leader.
  raft::config initial;
  bool durable = true;  // fsync before acks and votes (flush.policy=always)
  // The preferred leader of a fresh group (no state file) campaigns at its
  // first tick (not in create(): the caller registers the group with its
  // transport after create() returns, and the votes must find their way back).
  bool campaign_on_start = false;
  int election_tick = 10;  // ticks; the broker ticks every 50 ms
  int heartbeat_tick = 2;
  uint64_t seed = 0;
  uint64_t max_msg_bytes = 1 << 20;
};

struct group_status {  // a consistent snapshot, any thread
  raft::node_id leader;
  raft::term_id term;
  raft::role role = raft::role::follower;
  int64_t high_watermark = 0;  // commit + 1
  int64_t log_end_offset = 0;
  raft::config membership;
  // Leader only: replicas whose match is within one batch of the log end.
  std::vector<raft::node_id> in_sync;
  bool recovering = false;  // rejoined without a vote after corruption
};

class raft_group : public std::enable_shared_from_this<raft_group> {
 public:
  // Every callback runs on the strand.
  struct listener {
    // The high watermark (commit + 1) advanced.
    std::function<void(int64_t high_watermark)> on_commit;
    // The local durable end advanced: offsets below it are persisted here
    // (acks=1 waits for this on the leader).
    std::function<void(int64_t persisted_end)> on_persisted;
    // Leader, term or role changed.
    std::function<void(const group_status&)> on_role;
    // Batches were appended to the local log (as a follower, from the
    // leader; as leader, its own no-op/config batches). The producer state
    // observes them. Leader proposals are NOT reported (the proposer knows).
    std::function<void(int64_t base_offset, byte_view batches)> on_append;
    // The local log lost every offset >= from (divergence repair or a
    // restart at the leader's log start): rebuild what was derived from it.
    std::function<void(int64_t from)> on_truncate;
    // Committed entries, in offset order, once each per process (the
    // controller applies them; partitions may leave it empty).
    std::function<void(const raft::entry&)> on_apply;
  };

  // Opens the group: reads the state file (or starts fresh from
  // options.initial), recovers from corruption as above.
  static Result<std::shared_ptr<raft_group>> create(group_options options, executor_fn strand,
                                                    executor_fn flusher, transport& net,
                                                    listener l);
  ~raft_group();

  // Any thread: queue onto the strand.
  void step(raft::message m);
  void tick();
  // Any thread: stop; pending work is dropped; the log is flushed and the
  // state file written (on the strand, after an fsync in flight returns;
  // called off the strand it waits for that, at most 10 s). Idempotent; the
  // destructor does the same if shutdown() never ran.
  void shutdown();
  group_status status() const;  // any thread

  // --- strand only ---
  // Leader only: stamps `batch`'s base offset and leader epoch, and appends
  // it through Raft. Returns its offsets at once; it is persisted and
  // committed later (on_persisted / on_commit). Errors: raft::errc::not_leader
  // (the message names the leader), transfer_in_progress,
  // storage::errc::invalid_batch (not exactly one valid batch of
  // offset_count offsets), storage::errc::log_closed after shutdown.
  // While an fsync is in flight the proposal queues with its offsets
  // already assigned; if leadership or the term changed before it reaches
  // the core, it and every later queued proposal are dropped and on_truncate
  // reports the first dropped base offset (the promised offsets are void).
  Result<storage::append_result> propose(std::string batch, int64_t offset_count);
  // Leader only: one membership change (add learner, promote, remove).
  // While an fsync is in flight (or proposals are queued) the change, like a
  // transfer, is queued and applied after them: it returns ok at once, and
  // a refusal is only logged (watch status().membership / status().leader).
  Status change_membership(raft::config_change cc);
  Status transfer_leadership(raft::node_id to);
  bool is_leader() const;
  // The core's current term (strand only; status().term lags it until the
  // ready cycle ends).
  raft::term_id term() const;

 private:
  struct impl;
  explicit raft_group(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::replication
