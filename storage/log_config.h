// Per-partition log settings, named after Kafka's topic configs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kappa::storage {

enum class flush_policy {
  always,    // fsync before an append is reported (group-committed); the default
  interval,  // fsync every flush_interval_ms in the background (log_manager)
};

struct log_config {
  uint64_t segment_bytes = uint64_t{1} << 30;            // segment.bytes: roll past this size
  int64_t segment_ms = int64_t{7} * 24 * 3600 * 1000;    // segment.ms: roll an older active segment
  uint64_t index_interval_bytes = 4096;                  // index.interval.bytes
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;  // retention.ms; -1 = keep forever
  int64_t retention_bytes = -1;                          // retention.bytes; -1 = no size limit
  flush_policy flush = flush_policy::always;
  int64_t flush_interval_ms = 1000;                      // flush.ms, for flush_policy::interval
  size_t max_batch_bytes = size_t{1} << 20;              // max.message.bytes
};

}  // namespace kappa::storage
