// What the leader knows about each follower's log (etcd's Progress), and the
// flow control that bounds what is in flight to it.
#pragma once

#include <cstddef>
#include <deque>
#include <map>

#include "replication/raft/types.h"

namespace kappa::raft {

struct progress {
  enum class state : uint8_t {
    probe,      // next is a guess: one append at a time until one succeeds
    replicate,  // next is known: stream appends, up to max_inflight in flight
  };

  log_index match = no_index;  // highest offset known to be replicated there (an entry end)
  log_index next;              // the base offset of the next entry to send
  state st = state::probe;
  bool probe_sent = false;     // probe: an append is outstanding; wait for its answer
  bool recent_active = false;  // heard from since the last check-quorum round
  bool learner = false;
  // replicate: last offsets of the appends in flight, oldest first.
  std::deque<log_index> inflight;

  // Whether no append should be sent now (flow control).
  bool paused(size_t max_inflight) const {
    return st == state::probe ? probe_sent : inflight.size() >= max_inflight;
  }
  void become_probe();
  void become_replicate();
  // An append ending at `last` was sent.
  void sent(log_index last);
  // A successful append response up to n. False when stale.
  bool maybe_update(log_index n);
  // A rejection of the append whose prev was `rejected`; `hint` is where the
  // logs may match. False when stale. The caller realigns next to an entry base.
  bool maybe_decrease_to(log_index rejected, log_index hint);
  // Frees in-flight slots up to n (they were received).
  void free_to(log_index n);
};

const char* to_string(progress::state s);

using progress_map = std::map<node_id, progress>;

}  // namespace kappa::raft
