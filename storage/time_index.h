// The time index of a segment (`.timeindex`), Kafka's format: sparse entries of
//   entry := timestamp:int64 relative_offset:uint32     (big-endian, 12 bytes)
// meaning "batches up to the one at relative_offset have maxTimestamp <=
// timestamp". An entry is made at an offset-index interval when the segment's
// max timestamp has grown since the last entry, and once more when the
// segment is sealed or closed, so the last entry holds the segment's max
// timestamp. Timestamps strictly increase; offsets do not decrease.
#pragma once

#include <cstdint>

#include "proto/format/bytes.h"
#include "proto/format/endian.h"
#include "proto/format/result.h"
#include "storage/index_file.h"

namespace kappa::storage {

struct time_entry {
  int64_t timestamp = -1;
  uint32_t relative_offset = 0;
  bool operator==(const time_entry&) const = default;
};

struct time_codec {
  using entry = time_entry;
  static constexpr size_t kEntryBytes = 12;
  static void encode(const entry& en, uint8_t* out) {
    format::store_be<int64_t>(out, en.timestamp);
    format::store_be<uint32_t>(out + 8, en.relative_offset);
  }
  static entry decode(const uint8_t* in) {
    return {format::load_be<int64_t>(in), format::load_be<uint32_t>(in + 8)};
  }
};

using time_index = index_file<time_codec>;

// The relative offset from which a forward scan finds the first batch with
// maxTimestamp >= timestamp: that of the last entry whose timestamp is
// < timestamp, or 0 when there is none.
uint32_t lookup_time(const time_index& index, int64_t timestamp);

// Sanity checks on open: timestamps strictly increasing, offsets not
// decreasing and below `offset_count` (the segment's next offset minus its
// base). ok or corruption.
Status check_time_index(const time_index& index, int64_t offset_count);

}  // namespace kappa::storage
