#include "proto/format/record_batch.h"
#include "storage/errc.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace kappa::storage {

offset_entry lookup_offset(const offset_index& index, uint32_t relative_offset) {
  // Binary search for the last entry with relative_offset <= target.
  size_t lo = 0, hi = index.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (index.at(mid).relative_offset <= relative_offset) lo = mid + 1; else hi = mid;
  }
  return lo == 0 ? offset_entry{} : index.at(lo - 1);
}

uint32_t lookup_time(const time_index& index, int64_t timestamp) {
  size_t lo = 0, hi = index.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (index.at(mid).timestamp < timestamp) lo = mid + 1; else hi = mid;
  }
  return lo == 0 ? 0 : index.at(lo - 1).relative_offset;
}

Status check_offset_index(const offset_index& index, int64_t base_offset, byte_view segment) {
  auto bad = [&](size_t i, const std::string& what) {
    return error(errc::corruption, index.path() + ": entry " + std::to_string(i) + " " + what);
  };
  for (size_t i = 0; i < index.size(); ++i) {
    offset_entry en = index.at(i);
    if (en.position >= segment.size()) return bad(i, "points past the end of the segment");
    if (i > 0) {
      offset_entry prev = index.at(i - 1);
      if (en.relative_offset <= prev.relative_offset || en.position <= prev.position) {
        return bad(i, "is not increasing");
      }
    }
  }
  if (!index.empty()) {
    offset_entry last = index.back();
    if (last.position + format::kBatchHeaderBytes > segment.size()) {
      return bad(index.size() - 1, "leaves no room for a batch header");
    }
    auto h = format::read_header(segment.subspan(last.position));
    if (h.base_offset != base_offset + last.relative_offset) {
      return bad(index.size() - 1, "disagrees with the log: batch there has base offset " +
                                       std::to_string(h.base_offset));
    }
  }
  return Status();
}

Status check_time_index(const time_index& index, int64_t offset_count) {
  for (size_t i = 0; i < index.size(); ++i) {
    time_entry en = index.at(i);
    auto bad = [&](const std::string& what) {
      return error(errc::corruption, index.path() + ": entry " + std::to_string(i) + " " + what);
    };
    if (static_cast<int64_t>(en.relative_offset) >= offset_count) return bad("is past the segment's offsets");
    if (i > 0) {
      time_entry prev = index.at(i - 1);
      if (en.timestamp <= prev.timestamp || en.relative_offset < prev.relative_offset) {
        return bad("is not increasing");
      }
    }
  }
  return Status();
}

}  // namespace kappa::storage
