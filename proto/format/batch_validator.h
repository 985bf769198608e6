// Validation of untrusted RecordBatch v2 bytes (a produce request, a segment
// being recovered, a replication fetch). No declared length or count is
// trusted before it is checked against the bytes actually present; every
// failure has its own format::errc and a message that says what is wrong and
// where.
#pragma once

#include <cstddef>
#include <vector>

#include "proto/format/bytes.h"
#include "proto/format/record_batch.h"
#include "proto/format/result.h"

namespace kappa::format {

struct validation_limits {
  // Largest whole batch accepted (Kafka's max.message.bytes, default 1 MiB).
  size_t max_batch_bytes = size_t{1} << 20;
  // Largest payload a compressed batch may inflate to; larger is rejected
  // before it is allocated.
  size_t max_decompressed_bytes = size_t{64} << 20;
};

enum class validation_depth {
  // Header fields and CRC only: cheap, used by storage recovery.
  header_and_crc,
  // Also decodes every record (decompressing if needed) and checks
  // recordCount, lastOffsetDelta, offset deltas and timestamps against them.
  // Used on produce.
  records,
};

// Validates the one batch that starts at bytes[0]; it may be followed by
// other bytes. On success returns its header; the batch is
// bytes.first(header.size_bytes()).
Result<batch_header> validate_batch(byte_view bytes, const validation_limits& limits,
                                    validation_depth depth);

// Validates a buffer that must hold one or more whole batches and nothing
// else. On success returns their headers in order.
Result<std::vector<batch_header>> validate_batches(byte_view bytes,
                                                   const validation_limits& limits,
                                                   validation_depth depth);

}  // namespace kappa::format
