// poll()'s chunk handling: take under mu_, decode without it, apply under it.
#include <algorithm>

#include "client/src/consumer_impl.h"
#include "client/src/fetch_decode.h"

namespace kappa {

std::vector<consumer::impl::taken_chunks> consumer::impl::take_chunks() {
  std::vector<taken_chunks> taken;
  // Round-robin over partitions so one busy partition cannot starve others.
  const size_t n = parts_.size();
  size_t budget = config_.max_poll_records;
  for (size_t k = 0; k < n && budget > 0; ++k) {
    auto it = std::next(parts_.begin(), static_cast<long>((poll_start_ + k) % n));
    partition_state& s = it->second;
    if (s.paused || s.held || s.blocked || s.error || s.chunks.empty()) continue;
    taken_chunks t;
    t.tp = it->first;
    t.epoch = s.epoch;
    t.position = s.position;
    // Chunks go whole, so the budget may be exceeded by one chunk.
    while (!s.chunks.empty() && budget > 0) {
      std::string chunk = std::move(s.chunks.front());
      s.chunks.pop_front();
      KAPPA_ASSERT(s.buffered_bytes >= chunk.size() && buffered_total_ >= chunk.size());
      s.buffered_bytes -= chunk.size();
      buffered_total_ -= chunk.size();
      const size_t declared = client::declared_record_count(chunk);
      t.declared_records += declared;
      budget -= std::min(budget, std::max<size_t>(1, declared));
      t.chunks.push_back(std::move(chunk));
    }
    taken.push_back(std::move(t));
  }
  if (n > 0) poll_start_ = (poll_start_ + 1) % n;
  return taken;
}

void consumer::impl::decode_taken(taken_chunks& t, std::vector<consumed_record>& out) const {
  t.out_begin = out.size();
  int64_t position = t.position;
  for (const std::string& chunk : t.chunks) {
    auto decoded = client::decode_fetched(chunk, t.tp.topic, t.tp.partition, position,
                                          config_.check_crcs, out);
    if (!decoded.ok()) {
      t.error = decoded.status();  // returned by the next poll, after these records
      break;
    }
    position = std::max(position, decoded->next_offset);
  }
  t.next_position = position;
  t.out_end = out.size();
}

void consumer::impl::apply_decoded(std::vector<taken_chunks>& taken,
                                   std::vector<consumed_record>& out) {
  for (auto& t : taken) {
    for (std::string& chunk : t.chunks) {
      if (spare_chunks_.size() >= kSpareChunks) break;
      if (chunk.capacity() > 2 * static_cast<size_t>(config_.partition_max_bytes)) continue;
      chunk.clear();
      spare_chunks_.push_back(std::move(chunk));
    }
  }
  // Walk backwards so erasing one partition's records keeps the earlier
  // partitions' index ranges valid.
  for (auto t = taken.rbegin(); t != taken.rend(); ++t) {
    auto it = parts_.find(t->tp);
    if (it == parts_.end() || it->second.epoch != t->epoch) {
      // A seek or an unassign overtook this poll: these records are stale.
      out.erase(out.begin() + static_cast<long>(t->out_begin),
                out.begin() + static_cast<long>(t->out_end));
      continue;
    }
    partition_state& s = it->second;
    s.position = std::max(s.position, t->next_position);
    if (t->error && !s.error) s.error = *t->error;
  }
}

}  // namespace kappa
