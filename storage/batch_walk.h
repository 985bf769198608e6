// Walking and judging the batches of segment bytes: the ONE place that
// decides whether damage is a torn tail or corruption. Recovery (log open)
// and log_scan both use it, so the two can never disagree.
//
// The rule (DESIGN.md "Storage"): damage at position P is a torn tail only if
// P is in the final segment and no valid batch with a greater offset starts
// anywhere after P; everything else is corruption. A batch that is valid but
// whose offset breaks the contiguous sequence is corruption too (data is
// missing or duplicated, not torn).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/format/batch_validator.h"
#include "proto/format/bytes.h"
#include "proto/format/record_batch.h"
#include "storage/log_scan.h"

namespace kappa::storage {

// Recovery accepts any batch size that fits a segment: max.message.bytes may
// have been lowered after older batches were written.
format::validation_limits recovery_limits();

struct batch_damage {
  uint64_t position = 0;
  std::string message;
  // A valid batch with a greater offset starts at or after `position`.
  bool valid_data_after = false;
};

struct segment_walk {
  uint64_t valid_bytes = 0;   // the prefix of whole valid batches
  int64_t batches = 0;
  int64_t next_offset = -1;   // after the last valid batch (-1: none and no expectation)
  std::optional<batch_damage> damage;
};

// Called for each valid batch, in order: (segment index, position, header).
using batch_visitor = std::function<void(size_t, uint64_t, const format::batch_header&)>;

struct segment_input {
  std::string path;
  int64_t base_offset = -1;  // from the file name; -1 when unknown
  byte_view bytes;           // the segment's readable bytes
};

struct scan_result {
  scan_verdict verdict = scan_verdict::clean;
  size_t segment = 0;        // index in the input of the damaged segment
  uint64_t position = 0;
  std::string message;
  int64_t batches = 0;
  int64_t next_offset = -1;
  std::vector<segment_walk> walks;  // one per segment up to the damaged one
};

// Validates every batch (header and CRC) of `segments` in order, checking
// that offsets are contiguous within and across segments (each segment's
// first batch at its base offset), and classifies the first damage found.
// `visit` may be empty.
scan_result scan_segments(std::span<const segment_input> segments, const batch_visitor& visit);

// The classification rule above, stated once.
inline scan_verdict classify_damage(bool final_segment, bool valid_data_after) {
  return final_segment && !valid_data_after ? scan_verdict::torn_tail : scan_verdict::corruption;
}

}  // namespace kappa::storage
