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

// What each depth checks, in this order (the first failure is returned):
//
// header_and_crc (no allocation; CRC32C is the only pass over the payload):
//   truncated_header             fewer than 61 bytes
//   batch_length_too_small       batchLength < 49
//   batch_length_exceeds_buffer  12 + batchLength > bytes.size()
//   batch_too_large              12 + batchLength > limits.max_batch_bytes
//   bad_magic                    magic != 2
//   crc_mismatch                 CRC32C over attributes..end != crc
//   unsupported_compression      codec bits 5..7
//   bad_attributes               any of bits 7..15 set
//   bad_record_count             recordCount < 0, or more records than the
//                                payload could hold (7 bytes each; for a
//                                compressed batch, of max_decompressed_bytes)
//   bad_last_offset_delta        lastOffsetDelta < 0, or < recordCount - 1
//                                (compaction may leave it larger)
//   bad_base_offset              baseOffset < 0, or baseOffset +
//                                lastOffsetDelta overflows
//   bad_timestamp                maxTimestamp < baseTimestamp, both >= 0
//                                (not checked with hasDeleteHorizonMs, where
//                                baseTimestamp is the delete horizon)
//   bad_producer_fields          producerId/producerEpoch/baseSequence < -1;
//                                producerId -1 with epoch or sequence set;
//                                producerId >= 0 with epoch < 0, or with
//                                sequence < 0 outside control batches;
//                                transactional without a producerId
// records (adds; the payload is decompressed into a temporary buffer):
//   unsupported_compression / decompression_failed / decompressed_too_large
//   bad_record                   a record's varints or lengths are malformed,
//                                or its offsetDelta is not its index (control
//                                batches: not ascending within lastOffsetDelta)
//   bad_timestamp / bad_base_offset  base + delta overflows int64
//   bad_record_count             the records end before recordCount of them
//   trailing_bytes               bytes remain after recordCount records
//   bad_last_offset_delta        lastOffsetDelta != recordCount - 1
//                                (non-empty, non-control batches)
//   bad_timestamp                unless LogAppendTime: a record timestamp
//                                above maxTimestamp, or maxTimestamp not the
//                                largest record timestamp. Records below
//                                baseTimestamp are accepted: baseTimestamp is
//                                the first record's timestamp, and Kafka
//                                producers write negative deltas when user
//                                timestamps go backwards.
// Messages start "batch at byte N: " (N counted from the start of the buffer
// given to validate_batches) and then give the offending values.
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
