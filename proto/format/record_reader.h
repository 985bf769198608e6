// Record-by-record decoding of an uncompressed records payload (the bytes
// after the 61-byte header, decompressed if the batch was compressed).
// decode_records() and validate_batch(..., records) are built on it; use it
// directly to walk records without building a vector.
//
// Nothing in the payload is trusted: every length is checked against the
// bytes that remain in the record (and the record's length against the bytes
// that remain in the payload) before it is used. Positions in error messages
// are byte positions within the payload.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/format/bytes.h"
#include "proto/format/records.h"
#include "proto/format/result.h"

namespace kappa::format {

// The per-record deltas as encoded, for checks against the batch header.
struct record_deltas {
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  int8_t attributes = 0;
};

class record_reader {
 public:
  // `payload` must outlive the reader and the record_views it fills.
  record_reader(byte_view payload, int64_t base_offset, int64_t base_timestamp)
      : payload_(payload), base_offset_(base_offset), base_timestamp_(base_timestamp) {}

  bool at_end() const { return pos_ == payload_.size(); }
  size_t position() const { return pos_; }
  // How many records next() has returned.
  size_t records_read() const { return count_; }

  // Decodes the record at position() into `out` (its headers vector is
  // cleared and refilled, keeping its capacity) and moves past it.
  // Errors: errc::bad_record for malformed bytes; errc::bad_timestamp or
  // errc::bad_base_offset when base + delta overflows int64. After an error
  // the reader must not be used again.
  // REQUIRES: !at_end().
  Status next(record_view& out, record_deltas* deltas = nullptr);

 private:
  byte_view payload_;
  int64_t base_offset_;
  int64_t base_timestamp_;
  size_t pos_ = 0;
  size_t count_ = 0;
};

// The records payload of one whole batch: the bytes after its header, or
// those decompressed into `scratch` per the batch's codec (capped at
// max_decompressed_bytes). An empty batch (recordCount 0, no payload) has an
// empty payload whatever its codec, as Kafka's compaction writes them.
// Errors: unsupported_compression, decompression_failed,
// decompressed_too_large. REQUIRES: batch.size() >= kBatchHeaderBytes.
Result<byte_view> records_payload(byte_view batch, byte_buffer& scratch,
                                  size_t max_decompressed_bytes);

// The smallest encoded record: length, attributes, timestampDelta,
// offsetDelta, keyLength, valueLength and headerCount, one byte each.
inline constexpr size_t kMinRecordBytes = 7;

}  // namespace kappa::format
