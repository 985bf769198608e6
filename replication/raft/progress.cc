#include "replication/raft/progress.h"

#include <algorithm>

namespace kappa::raft {

void progress::become_probe() {
  // After a rejection or a restart of the stream, resume just past what we
  // know the follower has.
  st = state::probe;
  probe_sent = false;
  inflight.clear();
  next = std::max(next, match + 1);
}

void progress::become_replicate() {
  st = state::replicate;
  probe_sent = false;
  inflight.clear();
  next = match + 1;
}

void progress::sent(log_index last) {
  if (st == state::replicate) {
    // Optimistic: the next append follows this one without waiting.
    next = last + 1;
    inflight.push_back(last);
  } else {
    probe_sent = true;
  }
}

bool progress::maybe_update(log_index n) {
  bool updated = false;
  if (n > match) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  free_to(n);
  return updated;
}

bool progress::maybe_decrease_to(log_index rejected, log_index hint) {
  if (st == state::replicate) {
    // A rejection of something already matched is a stale, reordered reply.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // Probing: only the answer to the latest probe counts.
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

void progress::free_to(log_index n) {
  while (!inflight.empty() && inflight.front() <= n) inflight.pop_front();
}

const char* to_string(progress::state s) {
  return s == progress::state::probe ? "probe" : "replicate";
}

}  // namespace kappa::raft
