// The invariants of the seeded Raft simulation, checked after every step
// over what each replica holds (Raft §5.2-§5.4, and Kappa's high-watermark
// rules). The checker sees only plain state, never the nodes' internals, so
// a test can hand it a forged history and watch it fail (sim_checker_test).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "replication/raft/types.h"

namespace kappa::raft::sim {

// One replica as the checker sees it at one instant.
struct replica_view {
  node_id id;
  bool up = false;  // running; role, term and commit below are meaningful only then
  raft::role role = role::follower;
  term_id term;
  log_index commit = no_index;  // the node's in-memory commit
  uint64_t life = 0;            // bumped at each restart: commit may restart from persisted
  bool settled = false;         // no ready pending: the stable log is all the node has
  hard_state persisted;         // what survives a crash
  const std::vector<entry>* log = nullptr;  // the stable log
  // Where the stable log starts (compaction or a log restart moved it up)
  // and the term of the offset before; what lies below was committed.
  log_index log_start = log_index(0);
  term_id start_prev_term;
  // Bumped whenever the stable log is truncated, compacted or restarted
  // (appends keep it): the
  // checker re-verifies the whole log only when it changes.
  uint64_t log_epoch = 0;
};

class checker {
 public:
  // Checks one instant of the cluster against the history seen so far.
  // Returns the violations (empty when all is well).
  std::vector<std::string> check(const std::vector<replica_view>& replicas);
  // A replica is about to drop its stable entries from `from` on. Raft never
  // truncates committed entries; "" or the violation.
  std::string on_truncate(const replica_view& r, log_index from);
  // A replica is about to drop its whole stable log and restart it empty at
  // `start` (install_start): start - 1 must be committed with prev_term, and
  // what it drops at or after start must not be committed anywhere.
  std::string on_restart_log(const replica_view& r, log_index start, term_id prev_term);
  // Storage damage outside the protocol: the replica lost a suffix of its
  // log and its commit was lowered to match. Its own commit history starts
  // afresh; what the group committed is still checked against everyone.
  void on_damage(const replica_view& r) { cache_.erase(r.id); }

  // Committed entries known so far (by base offset), for the liveness check.
  const std::map<log_index, entry>& committed() const { return committed_; }

 private:
  struct replica_cache {
    uint64_t log_epoch = UINT64_MAX;
    size_t verified = 0;            // entries of the log checked for log matching
    uint64_t prefix_hash = 0;       // hash of those entries
    size_t verified_committed = 0;  // entries checked against committed_
    log_index persisted_commit = no_index;
    uint64_t life = UINT64_MAX;
    log_index commit = no_index;  // in-memory commit in this life
  };

  void check_log(const replica_view& r, replica_cache& c, std::vector<std::string>& out);
  void check_commit(const replica_view& r, replica_cache& c, std::vector<std::string>& out);
  void check_leader_completeness(const replica_view& r, std::vector<std::string>& out);
  // The committed entry that contains offset i, or null.
  const entry* committed_at(log_index i) const;

  std::map<term_id, node_id> leaders_;
  // (base offset, term) -> hash of the log up to and including that entry:
  // an entry is created once, by one leader, on top of one prefix (§5.3).
  std::map<std::pair<log_index, term_id>, uint64_t> prefixes_;
  std::map<log_index, entry> committed_;
  // The highest term seen anywhere when the entry was first seen committed: a
  // leader of any later term was elected after the commit and must hold it
  // (Leader Completeness, §5.4).
  std::map<log_index, term_id> committed_term_;
  term_id max_term_;
  std::map<node_id, replica_cache> cache_;
};

std::string describe(const replica_view& r);

}  // namespace kappa::raft::sim
