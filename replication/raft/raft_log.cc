#include "replication/raft/raft_log.h"

#include <algorithm>

#include "replication/raft/errc.h"

namespace kappa::raft {

raft_log::raft_log(const log_view& storage, log_index commit, log_index applied)
    : storage_(storage),
      // What lies below the log start was committed (and, for Kappa, the log
      // is the state machine: nothing there needs applying). A crash between
      // a log restart and the write of its hard state leaves exactly that.
      commit_(std::max(commit, storage.first_index() - 1)),
      applied_(std::max(applied, storage.first_index() - 1)) {
  KAPPA_ASSERT(applied_ <= commit_);
  KAPPA_ASSERT(commit_ <= storage_.last_index());
}

log_index raft_log::stable_last() const {
  if (restart_) return restart_->start - 1;
  log_index last = storage_.last_index();
  if (truncate_from_) last = std::min(last, *truncate_from_ - 1);
  return last;
}

log_index raft_log::last_index() const {
  return unstable_.empty() ? stable_last() : unstable_.back().last_index;
}

term_id raft_log::last_term() const {
  if (!unstable_.empty()) return unstable_.back().term;
  Result<term_id> t = term(stable_last());
  KAPPA_ASSERT(t.ok());  // the last entry (or first_index - 1) is always readable
  return *t;
}

Result<term_id> raft_log::term(log_index i) const {
  if (i > last_index())
    return error(errc::unavailable, "offset " + std::to_string(i.value) + " beyond the log");
  if (!unstable_.empty() && i >= unstable_.front().base_index) {
    auto it = std::partition_point(unstable_.begin(), unstable_.end(),
                                   [i](const entry& e) { return e.last_index < i; });
    return it->term;
  }
  if (restart_) {
    if (i == restart_->start - 1) return restart_->prev_term;
    return error(errc::compacted, "offset " + std::to_string(i.value) + " below the log start");
  }
  return storage_.term(i);
}

term_id raft_log::term_or_zero(log_index i) const {
  Result<term_id> t = term(i);
  return t.ok() ? *t : term_id(0);
}

bool raft_log::match_term(log_index i, term_id t) const {
  Result<term_id> ours = term(i);
  return ours.ok() && *ours == t;
}

Result<entry> raft_log::entry_at(log_index i) const {
  if (i > last_index())
    return error(errc::unavailable, "offset " + std::to_string(i.value) + " beyond the log");
  if (!unstable_.empty() && i >= unstable_.front().base_index) {
    auto it = std::partition_point(unstable_.begin(), unstable_.end(),
                                   [i](const entry& e) { return e.last_index < i; });
    return *it;
  }
  if (restart_ || i < first_index()) {
    return error(errc::compacted, "offset " + std::to_string(i.value) + " below the log start");
  }
  KAPPA_ASSIGN_OR_RETURN(std::vector<entry> es, storage_.entries(i, i + 1, 0));
  KAPPA_ASSERT(!es.empty() && es.front().contains(i));
  return es.front();
}

Result<std::vector<entry>> raft_log::entries(log_index lo, uint64_t max_bytes) const {
  std::vector<entry> out;
  if (lo > last_index()) return out;
  if (lo < first_index()) {
    return error(errc::compacted, "offset " + std::to_string(lo.value) + " below the log start");
  }
  uint64_t bytes = 0;
  if (lo <= stable_last()) {
    KAPPA_ASSIGN_OR_RETURN(out, storage_.entries(lo, stable_last() + 1, max_bytes));
    for (const entry& e : out) bytes += e.payload.size();
    if (out.back().last_index < stable_last()) return out;  // max_bytes reached inside storage
  }
  for (const entry& e : unstable_) {
    if (e.last_index < lo) continue;
    bytes += e.payload.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

bool raft_log::is_up_to_date(log_index last, term_id last_term) const {
  // Raft §5.4.1: compare the terms of the last entries, then the lengths.
  term_id ours = this->last_term();
  return last_term > ours || (last_term == ours && last >= last_index());
}

std::optional<log_index> raft_log::maybe_append(log_index prev, term_id prev_term,
                                                log_index leader_commit,
                                                const std::vector<entry>& es) {
  if (!match_term(prev, prev_term)) return std::nullopt;  // Raft §5.3 consistency check
  log_index last_new = es.empty() ? prev : es.back().last_index;
  // Log Matching (§5.3): an entry of the same term at the same offset is the
  // same entry, boundaries included, so the first entry whose term differs
  // (or that we lack) is where the logs diverge.
  size_t p = 0;
  for (; p < es.size(); ++p) {
    if (es[p].base_index > last_index() || term_or_zero(es[p].base_index) != es[p].term) break;
  }
  if (p < es.size()) {
    if (es[p].base_index <= last_index()) truncate_suffix(es[p].base_index);
    append(std::vector<entry>(es.begin() + static_cast<std::ptrdiff_t>(p), es.end()));
  }
  // Raft §5.3: commit = min(leaderCommit, index of last new entry). Entries
  // past last_new may be stale leftovers of another leader.
  commit_to(std::min(leader_commit, last_new));
  return last_new;
}

void raft_log::truncate_suffix(log_index from) {
  // A committed entry is on a majority and in every future leader's log
  // (Leader Completeness, §5.4): a leader asking us to drop one is a bug.
  KAPPA_ASSERT(from > commit_);
  Result<entry> at = entry_at(from);
  KAPPA_ASSERT(at.ok() && at->base_index == from);  // divergence is at an entry boundary
  if (!unstable_.empty() && from >= unstable_.front().base_index) {
    auto it = std::partition_point(unstable_.begin(), unstable_.end(),
                                   [from](const entry& e) { return e.base_index < from; });
    unstable_.erase(it, unstable_.end());
    return;
  }
  unstable_.clear();
  truncate_from_ = truncate_from_ ? std::min(*truncate_from_, from) : from;
}

void raft_log::append(const std::vector<entry>& es) {
  for (const entry& e : es) {
    KAPPA_ASSERT(e.base_index == last_index() + 1);
    KAPPA_ASSERT(e.last_index >= e.base_index);
    unstable_.push_back(e);
  }
}

log_index raft_log::find_conflict_by_term(log_index i, term_id t) const {
  if (i > last_index()) i = last_index();
  while (true) {
    Result<term_id> ours = term(i);
    if (!ours.ok() || *ours <= t || i < first_index()) return i;
    Result<entry> e = entry_at(i);
    if (!e.ok()) return i;
    i = e->base_index - 1;  // whole entries share a term: skip to the previous one
  }
}

void raft_log::restart(const log_start& ls) {
  // Everything up to ls.start - 1 is committed (the leader only moves its
  // log start over committed offsets); ours is below that, so nothing we
  // committed is lost: it is covered by the new start.
  KAPPA_ASSERT(ls.start - 1 > commit_);
  unstable_.clear();
  truncate_from_.reset();
  restart_ = ls;
  commit_ = ls.start - 1;
  applied_ = ls.start - 1;
}

void raft_log::commit_to(log_index i) {
  if (i <= commit_) return;  // commit never goes backwards
  KAPPA_ASSERT(i <= last_index());
  commit_ = i;
}

bool raft_log::maybe_commit(log_index i, term_id current_term) {
  // Raft §5.4.2: only an entry of the current term is committed by counting
  // replicas; earlier ones are committed with it (Figure 8).
  if (i > commit_ && term_or_zero(i) == current_term) {
    commit_to(i);
    return true;
  }
  return false;
}

bool raft_log::has_next_committed_entries() const {
  return applied_ < std::min(commit_, stable_last());
}

std::vector<entry> raft_log::next_committed_entries(uint64_t max_bytes) const {
  if (!has_next_committed_entries()) return {};
  // Only persisted entries are handed out: a committed entry is applied from
  // our own stable copy.
  log_index hi = std::min(commit_, stable_last());
  Result<std::vector<entry>> es = storage_.entries(applied_ + 1, hi + 1, max_bytes);
  KAPPA_ASSERT(es.ok());  // committed, unapplied entries are never compacted away
  return std::move(es).value();
}

void raft_log::stable_to(const std::optional<log_start>& restarted,
                         std::optional<log_index> truncated_from, std::optional<log_index> last) {
  if (restarted && restart_ == restarted) restart_.reset();
  if (truncated_from && truncate_from_ == truncated_from) truncate_from_.reset();
  if (last) {
    auto it = std::partition_point(unstable_.begin(), unstable_.end(),
                                   [&](const entry& e) { return e.last_index <= *last; });
    unstable_.erase(unstable_.begin(), it);
  }
  // The caller must have written exactly what the ready asked for.
  KAPPA_ASSERT(!restart_);  // only one can be pending, and the ready carried it
  KAPPA_ASSERT(!restarted || storage_.first_index() == restarted->start);
  KAPPA_ASSERT(!truncate_from_ || storage_.last_index() >= *truncate_from_);
  KAPPA_ASSERT(unstable_.empty() || unstable_.front().base_index == stable_last() + 1);
}

void raft_log::applied_to(log_index i) {
  KAPPA_ASSERT(i >= applied_ && i <= commit_);
  applied_ = i;
}

}  // namespace kappa::raft
