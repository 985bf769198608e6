// The per-partition checkpoint file (`<dir>/partition.checkpoint`), written
// with metadata_file (atomic, CRC-checked).
//
// Payload v1 (big-endian):
//   clean:uint8 recovery_point:int64 log_start_offset:int64
//   log_end_offset:int64 active_base_offset:int64 active_bytes:uint64
//   last_batch_position:uint64
//
// clean = 1 only when written by close() after a flush: the next open trusts
// it and does not scan, checking only that the active segment's size and last
// batch header agree. Before the first write after such an open a checkpoint
// with clean = 0 is made durable, so a later crash makes the next open
// recover from recovery_point (below which everything was synced and
// validated).
#pragma once

#include <cstdint>
#include <string>

#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::storage {

inline constexpr const char* kCheckpointFileName = "partition.checkpoint";
inline constexpr uint64_t kNoBatch = UINT64_MAX;

struct checkpoint {
  bool clean = false;
  int64_t recovery_point = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t active_base_offset = 0;
  uint64_t active_bytes = 0;
  uint64_t last_batch_position = kNoBatch;  // in the active segment
};

Status write_checkpoint(env& e, const std::string& dir, const checkpoint& cp);
// Errors: errc::not_found when absent, errc::bad_checkpoint when damaged or
// internally inconsistent.
Result<checkpoint> read_checkpoint(env& e, const std::string& dir);

}  // namespace kappa::storage
