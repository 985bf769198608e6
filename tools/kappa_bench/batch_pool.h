// Prebuilt RecordBatch v2 batches for the append benchmarks, so that building
// them (encoding, CRC) is not part of what is measured.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/format/bytes.h"
#include "proto/format/result.h"

namespace kappa::bench {

struct batch_pool {
  std::vector<byte_buffer> batches;  // all of the same size
  int records_per_batch = 0;
  size_t batch_size_bytes() const { return batches.empty() ? 0 : batches.front().size(); }
};

// `count` distinct batches of batch_bytes / record_bytes records (at least
// one), each record a null key and record_bytes of pseudo-random value, so
// that nothing downstream can shortcut on repeated or compressible bytes.
Result<batch_pool> build_batch_pool(uint64_t record_bytes, uint64_t batch_bytes, int count);

}  // namespace kappa::bench
