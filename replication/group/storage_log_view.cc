#include "replication/group/storage_log_view.h"

#include <algorithm>

#include "proto/format/record_batch.h"
#include "replication/group/batch_entry_codec.h"
#include "replication/raft/errc.h"

namespace kappa::replication {

raft::entry entry_of_batch(byte_view batch) {
  auto h = format::read_header(batch);
  raft::entry e;
  e.term = raft::term_id(static_cast<uint64_t>(std::max<int32_t>(h.partition_leader_epoch, 0)));
  e.base_index = raft::log_index(h.base_offset);
  e.last_index = raft::log_index(h.last_offset());
  e.type = entry_type_of(batch.first(h.size_bytes()));
  e.payload.assign(reinterpret_cast<const char*>(batch.data()), h.size_bytes());
  return e;
}

Result<raft::term_id> storage_log_view::term(raft::log_index i) const {
  if (i < first_index() - 1) {
    return raft::error(raft::errc::compacted, "offset " + std::to_string(i.value) +
                                                  " is below the log start " +
                                                  std::to_string(first_index().value));
  }
  if (i > last_index()) {
    return raft::error(raft::errc::unavailable, "offset " + std::to_string(i.value) +
                                                    " is past the log end " +
                                                    std::to_string(last_index().value + 1));
  }
  return epochs_->term_at(i.value);
}

Result<std::vector<raft::entry>> storage_log_view::entries(raft::log_index lo, raft::log_index hi,
                                                           uint64_t max_bytes) const {
  if (lo < first_index()) {
    return raft::error(raft::errc::compacted,
                       "offset " + std::to_string(lo.value) + " is below the log start");
  }
  if (hi > last_index() + 1 || lo >= hi) {
    return raft::error(raft::errc::unavailable, "range [" + std::to_string(lo.value) + "," +
                                                    std::to_string(hi.value) +
                                                    ") is not in the log");
  }
  std::vector<raft::entry> out;
  uint64_t bytes = 0;
  int64_t off = lo.value;
  for (int guard = 0; off < hi.value && guard < (1 << 20); ++guard) {
    const size_t want = static_cast<size_t>(
        std::clamp<uint64_t>(max_bytes - std::min(bytes, max_bytes), 1, 8 << 20));
    auto v = log_->read(off, want, hi.value);
    if (!v.ok()) return raft::error(raft::errc::unavailable, v.status().message());
    if (v->batches.empty()) break;
    size_t pos = 0;
    while (pos + format::kBatchHeaderBytes <= v->batches.size()) {
      auto h = format::read_header(v->batches.subspan(pos));
      if (h.base_offset >= hi.value) return out;
      bytes += h.size_bytes();
      if (!out.empty() && bytes > max_bytes) return out;
      out.push_back(entry_of_batch(v->batches.subspan(pos)));
      pos += h.size_bytes();
    }
    if (v->next_offset <= off) break;
    off = v->next_offset;
  }
  return out;
}

}  // namespace kappa::replication
