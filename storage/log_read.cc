// storage::log: the read paths (log_impl.h). No copies: views over mappings.
#include <algorithm>

#include "proto/format/records.h"
#include "storage/errc.h"
#include "storage/log_impl.h"

namespace kappa::storage {

size_t log_impl::find_segment(int64_t offset) const {
  KAPPA_ASSERT(!segments_.empty());
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const segment_ptr& s) { return o < s->base_offset(); });
  return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

uint64_t log_impl::index_position(const segment& s, int64_t offset) {
  const int64_t rel = offset - s.base_offset();
  if (rel <= 0) return 0;
  offset_entry en = lookup_offset(s.offsets, static_cast<uint32_t>(std::min<int64_t>(rel, UINT32_MAX)));
  byte_view bytes = s.bytes();
  // Verify against the log: the batch there must start at the entry's
  // offset, at or before the target. Otherwise scan from the start.
  if (en.position + format::kBatchHeaderBytes > bytes.size()) return 0;
  auto h = format::read_header(bytes.subspan(en.position));
  if (h.base_offset != s.base_offset() + en.relative_offset || h.base_offset > offset) return 0;
  return en.position;
}

Result<read_view> log_impl::read(int64_t offset, size_t max_bytes, int64_t max_offset) const {
  std::shared_lock lk(state_mu_);
  const int64_t start = log_start_.load(), end = log_end_.load();
  if (offset < start || offset > end) {
    return error(errc::offset_out_of_range, dir_ + ": offset " + std::to_string(offset) +
                                                " is out of range; valid offsets are " + std::to_string(start) +
                                                " to " + std::to_string(end) + " (the log end)");
  }
  if (offset == end) return read_view{nullptr, {}, offset};
  for (size_t i = find_segment(offset); i < segments_.size(); ++i) {
    segment_ptr held = segments_[i];  // outlives the lock: retention may drop it from the list
    const segment& s = *held;
    if (offset >= s.next_offset) continue;
    const uint64_t from = index_position(s, offset);
    std::shared_ptr<const mapped_region> keep = s.mapping();
    byte_view bytes = s.bytes();
    lk.unlock();  // the held mapping keeps `bytes` valid and unchanged

    uint64_t first = UINT64_MAX, last_end = 0;
    int64_t next = offset;
    bool cut = false;  // stopped by max_offset before the target batch
    walk_headers(bytes, from, [&](uint64_t p, const format::batch_header& h) {
      if (first == UINT64_MAX) {
        if (h.last_offset() < offset) return true;
        if (h.base_offset >= max_offset) {
          cut = true;
          return false;
        }
        first = p;
      } else if (h.base_offset >= max_offset || last_end - first + h.size_bytes() > max_bytes) {
        return false;
      }
      last_end = p + h.size_bytes();
      next = h.last_offset() + 1;
      return true;
    });
    if (first == UINT64_MAX) {
      if (cut) return read_view{std::move(keep), {}, offset};
      return error(errc::corruption, s.log_path() + ": offset " + std::to_string(offset) +
                                         " is not where the segment's batch headers lead");
    }
    // Assert what we hand out: whole batches, starting at the target.
    KAPPA_ASSERT(last_end <= bytes.size() && first < last_end);
    return read_view{std::move(keep), bytes.subspan(first, last_end - first), next};
  }
  return error(errc::corruption, dir_ + ": no segment holds offset " + std::to_string(offset));
}

Result<std::optional<int64_t>> log_impl::offset_for_timestamp(int64_t timestamp_ms) const {
  std::shared_lock lk(state_mu_);
  const int64_t start = log_start_.load();
  for (size_t i = segments_.empty() ? 0 : find_segment(start); i < segments_.size(); ++i) {
    segment_ptr held = segments_[i];
    const segment& s = *held;
    if (s.max_timestamp() < timestamp_ms || s.readable_bytes() == 0) continue;
    const int64_t from_offset = s.base_offset() + lookup_time(s.times, timestamp_ms);
    const uint64_t from = index_position(s, std::max(from_offset, start));
    std::shared_ptr<const mapped_region> keep = s.mapping();
    byte_view bytes = s.bytes();
    lk.unlock();

    std::optional<int64_t> found;
    Status failure;
    byte_buffer scratch;
    walk_headers(bytes, from, [&](uint64_t p, const format::batch_header& h) {
      if (h.max_timestamp < timestamp_ms || h.last_offset() < start) return true;
      if (h.attributes & format::attr::log_append_time) {
        // Every record of a LogAppendTime batch carries maxTimestamp.
        found = std::max(h.base_offset, start);
        return false;
      }
      auto records = format::decode_records(bytes.subspan(p, h.size_bytes()), scratch);
      if (!records.ok()) {
        failure = Status(records.status().code(), s.log_path() + " at byte " + std::to_string(p) + ": " +
                                                      records.status().message());
        return false;
      }
      for (const auto& r : *records) {
        if (r.timestamp >= timestamp_ms && r.offset >= start) {
          found = r.offset;
          return false;
        }
      }
      return true;
    });
    if (!failure.ok()) return failure;
    if (found) return found;
    lk.lock();
    if (i >= segments_.size() || segments_[i]->base_offset() != s.base_offset()) break;  // changed meanwhile
  }
  return std::optional<int64_t>();
}

}  // namespace kappa::storage
