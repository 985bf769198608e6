#include <algorithm>

#include "replication/raft/errc.h"
#include "replication/raft/log_view.h"

namespace kappa::raft {

size_t memory_log::position(log_index i) const {
  auto it = std::partition_point(entries_.begin(), entries_.end(),
                                 [i](const entry& e) { return e.last_index < i; });
  KAPPA_ASSERT(it != entries_.end() && it->contains(i));
  return static_cast<size_t>(it - entries_.begin());
}

Result<term_id> memory_log::term(log_index i) const {
  if (i < start_ - 1)
    return error(errc::compacted, "offset " + std::to_string(i.value) + " compacted");
  if (i > last_index())
    return error(errc::unavailable, "offset " + std::to_string(i.value) + " not in the log");
  if (i == start_ - 1) return start_prev_term_;
  return entries_[position(i)].term;
}

Result<std::vector<entry>> memory_log::entries(log_index lo, log_index hi,
                                               uint64_t max_bytes) const {
  if (lo < start_)
    return error(errc::compacted, "offset " + std::to_string(lo.value) + " compacted");
  if (hi > last_index() + 1 || lo >= hi) {
    return error(errc::unavailable, "range [" + std::to_string(lo.value) + "," +
                                        std::to_string(hi.value) + ") not in the log");
  }
  std::vector<entry> out;
  uint64_t bytes = 0;
  for (size_t p = position(lo); p < entries_.size() && entries_[p].base_index < hi; ++p) {
    bytes += entries_[p].payload.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(entries_[p]);
  }
  return out;
}

Status memory_log::append(const std::vector<entry>& es) {
  for (const entry& e : es) {
    if (e.base_index != last_index() + 1 || e.last_index < e.base_index) {
      return error(errc::invalid_argument, "entry " + to_string(e) +
                                               " does not continue the log at " +
                                               std::to_string((last_index() + 1).value));
    }
    entries_.push_back(e);
  }
  return {};
}

Status memory_log::truncate_from(log_index from) {
  if (from > last_index()) return {};
  if (from < start_) return error(errc::compacted, "truncation below the log start");
  size_t p = position(from);
  if (entries_[p].base_index != from) return error(errc::invalid_argument, "not an entry boundary");
  entries_.resize(p);
  return {};
}

Status memory_log::compact_to(log_index to) {
  if (to <= start_) return {};
  if (to > last_index() + 1) return error(errc::unavailable, "compaction past the end of the log");
  if (to == last_index() + 1) {
    start_prev_term_ = entries_.back().term;
    entries_.clear();
  } else {
    size_t p = position(to);
    if (entries_[p].base_index != to) return error(errc::invalid_argument, "not an entry boundary");
    start_prev_term_ = entries_[p - 1].term;  // p > 0 because to > start_
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(p));
  }
  start_ = to;
  return {};
}

void memory_log::reset(log_index start, term_id prev_term) {
  entries_.clear();
  start_ = start;
  start_prev_term_ = prev_term;
}

}  // namespace kappa::raft
