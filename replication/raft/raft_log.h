// The node's view of its log: stable storage (read through a log_view) plus
// the entries not yet persisted (etcd's "unstable"), a pending truncation or
// restart of stable storage, and the commit and applied indexes.
//
// INVARIANTS: applied <= commit; commit never goes backwards; nothing at or
// below commit is ever truncated; unstable entries start right after the
// stable prefix that survives the pending truncation (or right after the
// pending restart point). Offsets below the log start count as committed
// and applied: only committed offsets are ever compacted away.
#pragma once

#include <optional>
#include <vector>

#include "replication/raft/log_view.h"
#include "replication/raft/types.h"

namespace kappa::raft {

class raft_log {
 public:
  raft_log(const log_view& storage, log_index commit, log_index applied);

  // The first offset held; while a restart is pending, its start.
  log_index first_index() const { return restart_ ? restart_->start : storage_.first_index(); }
  log_index last_index() const;
  term_id last_term() const;
  log_index commit() const { return commit_; }
  log_index applied() const { return applied_; }

  // The term of the entry containing i, for i in [first_index() - 1, last_index()].
  Result<term_id> term(log_index i) const;
  // term(i), or 0 when i is outside the log (used where "no match" is the answer).
  term_id term_or_zero(log_index i) const;
  bool match_term(log_index i, term_id t) const;
  // The whole entry containing i. REQUIRES: first_index() <= i <= last_index().
  Result<entry> entry_at(log_index i) const;
  // Whole entries from lo (an entry base) up to last_index(), at most
  // max_bytes of payload but at least one entry.
  Result<std::vector<entry>> entries(log_index lo, uint64_t max_bytes) const;

  // Raft §5.4.1: a log ending at (last_term, last_index) is at least as
  // up-to-date as ours.
  bool is_up_to_date(log_index last, term_id last_term) const;

  // Raft §5.3 AppendEntries receiver: when our entry at prev has prev_term,
  // drops a conflicting suffix, appends what is new, advances commit to
  // min(leader_commit, last new offset) and returns that last new offset.
  std::optional<log_index> maybe_append(log_index prev, term_id prev_term, log_index leader_commit,
                                        const std::vector<entry>& es);
  // Appends entries that continue the log (the leader's own proposals).
  void append(const std::vector<entry>& es);
  // The largest offset <= i whose term is <= t (etcd's findConflictByTerm):
  // where a log that has term t at i can possibly match ours.
  log_index find_conflict_by_term(log_index i, term_id t) const;

  // Drops the whole log (stable and unstable) and restarts it empty at
  // ls.start; commit and applied move to ls.start - 1. REQUIRES:
  // ls.start - 1 > commit() (nothing committed is dropped without being
  // covered by the new start).
  void restart(const log_start& ls);

  // Advances commit to i (never backwards; i <= last_index()).
  void commit_to(log_index i);
  // Raft §5.4.2: commits i only if the entry there is of the current term.
  bool maybe_commit(log_index i, term_id current_term);

  // --- ready/advance ---
  const std::vector<entry>& unstable_entries() const { return unstable_; }
  std::optional<log_index> pending_truncation() const { return truncate_from_; }
  const std::optional<log_start>& pending_restart() const { return restart_; }
  // Committed, persisted entries not yet handed out for applying.
  std::vector<entry> next_committed_entries(uint64_t max_bytes) const;
  bool has_next_committed_entries() const;
  // The caller persisted the restart, the truncation and entries up to `last`.
  void stable_to(const std::optional<log_start>& restarted,
                 std::optional<log_index> truncated_from, std::optional<log_index> last);
  void applied_to(log_index i);
  // The last persisted offset (after the pending truncation).
  log_index stable_last() const;

 private:
  // Drops our entries from `from` (an entry boundary above commit) onwards.
  void truncate_suffix(log_index from);

  const log_view& storage_;
  std::vector<entry> unstable_;
  std::optional<log_index> truncate_from_;
  std::optional<log_start> restart_;
  log_index commit_;
  log_index applied_;
};

}  // namespace kappa::raft
