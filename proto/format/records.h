// Records inside a RecordBatch v2: building batches (producer side, tests)
// and decoding them (consumer side, tools, timestamp lookup).
// The grammar is in record_batch.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/format/bytes.h"
#include "proto/format/record_batch.h"
#include "proto/format/result.h"

namespace kappa::format {

// A record as decoded. Views point into the batch, or into the scratch
// buffer passed to decode_records when the batch was compressed; they are
// valid while both live and are unchanged.
struct record_header_view {
  std::string_view key;
  std::optional<byte_view> value;  // nullopt = null
};
struct record_view {
  int64_t offset = 0;     // baseOffset + offsetDelta
  int64_t timestamp = 0;  // baseTimestamp + timestampDelta
  std::optional<byte_view> key;
  std::optional<byte_view> value;
  std::vector<record_header_view> headers;
};

// Decodes every record of one whole batch (which the caller has validated,
// at least to header_and_crc depth). Decompresses into `scratch` when the
// batch is compressed, refusing to inflate past max_decompressed_bytes.
// Safe on any bytes: errors are truncated_header, batch_length_too_small,
// batch_length_exceeds_buffer, bad_record_count, unsupported_compression,
// decompression_failed, decompressed_too_large, bad_record, bad_timestamp,
// trailing_bytes. It checks structure only (not offset order or timestamps
// against the header; that is validate_batch's records depth). To walk
// records without building a vector, see record_reader.h.
Result<std::vector<record_view>> decode_records(byte_view batch, byte_buffer& scratch,
                                                size_t max_decompressed_bytes = size_t{64} << 20);

// An owned record to put in a batch.
struct record_header {
  std::string key;
  std::optional<std::string> value;
};
struct record {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<record_header> headers;
  int64_t timestamp = 0;
};

struct batch_options {
  compression codec = compression::none;
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  bool log_append_time = false;
};

// Builds one batch from records (offset deltas 0..n-1, baseTimestamp = the
// first record's timestamp, maxTimestamp = the largest, record attributes 0,
// CRC computed), compressed per options.codec (see compression.h). With
// producer options that validate_batch accepts, the result passes it at
// records depth. Errors: bad_record for a
// key/value/header longer than INT32_MAX, bad_timestamp when a timestamp
// minus baseTimestamp overflows, batch_too_large when batchLength would
// overflow int32. REQUIRES: !records.empty().
Result<byte_buffer> build_batch(const batch_options& options, const std::vector<record>& records);

}  // namespace kappa::format
