// The offset index of a segment (`.index`), Kafka's format: sparse entries of
//   entry := relative_offset:uint32 position:uint32     (big-endian, 8 bytes)
// mapping a batch's base offset (minus the segment's base offset) to the byte
// position where that batch starts. One entry is made per
// index_interval_bytes of log; the first batch (position 0) needs none.
// Entries strictly increase in both fields.
#pragma once

#include <cstdint>

#include "proto/format/bytes.h"
#include "proto/format/endian.h"
#include "proto/format/result.h"
#include "storage/index_file.h"

namespace kappa::storage {

struct offset_entry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;
  bool operator==(const offset_entry&) const = default;
};

struct offset_codec {
  using entry = offset_entry;
  static constexpr size_t kEntryBytes = 8;
  static void encode(const entry& en, uint8_t* out) {
    format::store_be<uint32_t>(out, en.relative_offset);
    format::store_be<uint32_t>(out + 4, en.position);
  }
  static entry decode(const uint8_t* in) {
    return {format::load_be<uint32_t>(in), format::load_be<uint32_t>(in + 4)};
  }
};

using offset_index = index_file<offset_codec>;

// The last entry whose relative offset is <= relative_offset, or {0, 0}
// (the segment's start) when there is none. The caller verifies the result
// against the log before trusting it.
offset_entry lookup_offset(const offset_index& index, uint32_t relative_offset);

// Sanity checks on open: entries strictly increasing, every position inside
// the segment, and the last entry pointing at a batch header in `segment`
// (the segment's readable bytes) whose base offset agrees. ok or corruption.
Status check_offset_index(const offset_index& index, int64_t base_offset, byte_view segment);

}  // namespace kappa::storage
