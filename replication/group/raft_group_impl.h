// The implementation of replication::raft_group (raft_group.h). Private to
// replication/group/.
//
// Everything below runs on the group's strand, except the flusher job (which
// touches only the log's flush() and the state file, while the strand waits
// for it: in_flight) and the members marked [mu] or atomic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <variant>

#include "replication/group/batch_entry_codec.h"
#include "replication/group/epoch_cache.h"
#include "replication/group/hard_state_file.h"
#include "replication/group/raft_group.h"
#include "replication/group/storage_log_view.h"
#include "replication/raft/raft.h"

namespace kappa::replication {

struct raft_group::impl {
  impl(group_options o, executor_fn s, executor_fn f, transport& t, listener li)
      : opts(std::move(o)), strand(std::move(s)), flusher(std::move(f)), net(t), l(std::move(li)) {}

  // A proposal accepted while a ready was outstanding, with its offsets
  // already handed to the caller.
  struct queued_proposal {
    std::string batch;
    int64_t count = 0;
    int64_t base = 0;
    raft::term_id term;
  };
  struct queued_control {
    std::optional<raft::config_change> change;
    raft::node_id transfer_to;
  };

  // --- raft_group_ready.cc ---
  // Drains the queue into the node and runs ready cycles until nothing is
  // ready or a flush is in flight.
  void process();
  void handle_ready();
  // Step 1's writes; false when the group must stop (a storage failure).
  bool write_ready(raft::ready& rd, bool* wrote_entries);
  // Steps 2-4 after the flusher's fsync (st: its outcome).
  void finish_ready(raft::ready rd, Status st);
  void drain_queue();
  // Cuts an append's entries at the first whose bytes do not hold a valid
  // batch matching the entry (transport damage), before the core sees them.
  void drop_bad_entries(raft::message& m) const;
  void propose_queued(queued_proposal& p);
  // Starts a flusher job writing the state file alone (lazy commit).
  void maybe_write_state_lazily();
  persisted_state state_to_write() const;
  void publish_status();
  void fail_group(const Status& why);
  void final_write();

  // Posts fn to the strand, keeping the group alive.
  void post(std::function<void()> fn);

  group_options opts;
  executor_fn strand;
  executor_fn flusher;
  transport& net;
  listener l;
  std::weak_ptr<raft_group> owner;

  std::unique_ptr<epoch_cache> epochs;
  std::unique_ptr<storage_log_view> view;
  std::unique_ptr<batch_entry_codec> codec;
  std::unique_ptr<raft::node> node;

  bool in_flight = false;  // a flusher job runs; the node may hold an outstanding ready
  bool busy = false;       // process() is on the stack: nested calls leave work to it
  std::deque<queued_proposal> proposals;
  int64_t queued_end = 0;  // valid while proposals is non-empty
  std::deque<queued_control> controls;
  std::deque<raft::message> inbox;
  int ticks = 0;
  // Leader proposals appended through the node (base offset, term), not
  // reported by on_append. One the node dropped (it lost the lead before
  // the entry reached a ready; another leader's entries took the offsets)
  // is reported by on_truncate: its promised offsets are void.
  std::deque<std::pair<int64_t, raft::term_id>> local_bases;

  persisted_state written;      // what the state file holds
  raft::config committed_conf;  // the last committed membership
  raft::log_index committed_conf_index = raft::no_index;
  int64_t last_state_write_ms = 0;
  int64_t last_entry_count = 1;  // offsets of the last entry appended (in_sync slack)
  int64_t applied_end = 0;       // the high watermark reported so far
  int64_t no_vote_until = -1;    // recovering until the log passes it
  bool recovering = false;
  bool campaign_pending = false;  // campaign_on_start: at the first tick
  bool restarted = false;         // the ready being written restarted the log
  raft::soft_state last_soft;
  raft::term_id last_term;

  std::atomic<bool> stopped{false};
  bool final_written = false;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;

  mutable std::mutex mu;
  group_status status;  // [mu]
};

}  // namespace kappa::replication
