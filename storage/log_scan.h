// storage::log_scan — read-only verification of a partition directory or one
// segment file, for `kappactl log verify` and tests. Never modifies anything.
#pragma once

#include <cstdint>
#include <string>

#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::storage {

enum class scan_verdict {
  clean,       // every batch valid
  torn_tail,   // invalid bytes at the very end, nothing valid after: recoverable
  corruption,  // an invalid batch followed by valid data, or damage in a non-final segment
};

struct scan_report {
  scan_verdict verdict = scan_verdict::clean;
  std::string segment_path;     // where the first damage is (empty when clean)
  uint64_t position = 0;        // byte position of the first damage in that segment
  std::string message;          // what is wrong there
  int64_t batches = 0;          // valid batches before the damage
  int64_t next_offset = -1;     // the offset after the last valid batch (-1 if none)
};

// Scans every segment of a partition directory from its first byte.
Result<scan_report> scan_partition_dir(env& e, const std::string& dir);
// Scans one segment file; damage is judged as if it were the final segment.
Result<scan_report> scan_segment_file(env& e, const std::string& path);

}  // namespace kappa::storage
