// The read-only view of stable storage through which the core reads the log
// (etcd's Storage). Writes never go through it: they leave the core in a
// `ready` and the caller applies them to storage before advance().
#pragma once

#include <cstdint>
#include <vector>

#include "proto/format/result.h"
#include "replication/raft/types.h"

namespace kappa::raft {

class log_view {
 public:
  virtual ~log_view() = default;

  // The first offset held (the log start offset). An empty fresh log has
  // first_index() == 0 and last_index() == -1.
  virtual log_index first_index() const = 0;
  // The last offset held (first_index() - 1 when empty).
  virtual log_index last_index() const = 0;
  // The term of the entry containing offset i, for i in
  // [first_index() - 1, last_index()]; the term of first_index() - 1 is kept
  // after compaction (0 for a fresh log). errc::compacted below that range,
  // errc::unavailable above it.
  virtual Result<term_id> term(log_index i) const = 0;
  // Whole entries covering offsets [lo, hi): the first one contains lo (it may
  // start before lo). Stops once the payload bytes would exceed max_bytes, but
  // always returns at least one entry when lo < hi.
  // REQUIRES: first_index() <= lo < hi <= last_index() + 1, else errc::compacted/unavailable.
  virtual Result<std::vector<entry>> entries(log_index lo, log_index hi,
                                             uint64_t max_bytes) const = 0;
};

// An in-memory log for tests and simulations. Not thread-safe.
class memory_log final : public log_view {
 public:
  // An empty log that starts at `start` (the term of start - 1 is start_prev_term).
  explicit memory_log(log_index start = log_index(0), term_id start_prev_term = term_id(0))
      : start_(start), start_prev_term_(start_prev_term) {}

  log_index first_index() const override { return start_; }
  log_index last_index() const override {
    return entries_.empty() ? start_ - 1 : entries_.back().last_index;
  }
  Result<term_id> term(log_index i) const override;
  Result<std::vector<entry>> entries(log_index lo, log_index hi, uint64_t max_bytes) const override;

  // Appends entries that continue the log contiguously.
  Status append(const std::vector<entry>& es);
  // Drops every entry at or after `from`, which must be an entry boundary.
  Status truncate_from(log_index from);
  // Drops every entry before `to`, which must be an entry boundary (retention).
  Status compact_to(log_index to);
  // Drops every entry; the log restarts empty at `start`, with the term of
  // start - 1 being prev_term (ready::restart_log).
  void reset(log_index start, term_id prev_term);

  const std::vector<entry>& all() const { return entries_; }

 private:
  // The position in entries_ of the entry containing i. REQUIRES: i held.
  size_t position(log_index i) const;

  log_index start_;
  term_id start_prev_term_;
  std::vector<entry> entries_;
};

}  // namespace kappa::raft
