// Batch validation. The header checks run in the order a reader needs them:
// first whether the bytes are there at all (so storage recovery can tell a
// torn tail from damage), then whether they are intact (magic, CRC), then
// whether the intact fields make sense. Only then, at records depth, is the
// payload decompressed and walked.
#include "proto/format/batch_validator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>

#include "proto/format/errc.h"
#include "proto/format/record_reader.h"

namespace kappa::format {
namespace {

constexpr int16_t kReservedAttributeBits = static_cast<int16_t>(0xFF80);
constexpr int32_t kMinBatchLength =
    static_cast<int32_t>(kBatchHeaderBytes - kBatchLogOverheadBytes);

std::string at(size_t position) {
  return "batch at byte " + std::to_string(position) + ": ";
}

Status check_producer_fields(const batch_header& h, size_t position) {
  auto bad = [&](const std::string& what) {
    return error(errc::bad_producer_fields, at(position) + what);
  };
  if (h.producer_id < -1)
    return bad("producerId " + std::to_string(h.producer_id) + " is below -1");
  if (h.producer_epoch < -1)
    return bad("producerEpoch " + std::to_string(h.producer_epoch) + " is below -1");
  if (h.base_sequence < -1)
    return bad("baseSequence " + std::to_string(h.base_sequence) + " is below -1");
  if (h.producer_id == -1) {
    if (h.producer_epoch != -1 || h.base_sequence != -1) {
      return bad("producerId -1 (no producer) with producerEpoch " +
                 std::to_string(h.producer_epoch) + " and baseSequence " +
                 std::to_string(h.base_sequence) + " (both must be -1)");
    }
    if (h.is_transactional()) return bad("transactional batch without a producerId");
    return Status();
  }
  if (h.producer_epoch < 0) {
    return bad("producerId " + std::to_string(h.producer_id) + " with producerEpoch " +
               std::to_string(h.producer_epoch));
  }
  // Transaction markers (control batches) carry the producer but no sequence.
  if (h.base_sequence < 0 && !h.is_control()) {
    return bad("producerId " + std::to_string(h.producer_id) + " with baseSequence " +
               std::to_string(h.base_sequence));
  }
  return Status();
}

Result<batch_header> check_header(byte_view bytes, size_t position,
                                  const validation_limits& limits) {
  if (bytes.size() < kBatchHeaderBytes) {
    return error(errc::truncated_header, at(position) + std::to_string(bytes.size()) +
                                             " bytes present, a batch header needs " +
                                             std::to_string(kBatchHeaderBytes));
  }
  const batch_header h = read_header(bytes);
  if (h.batch_length < kMinBatchLength) {
    return error(errc::batch_length_too_small,
                 at(position) + "batchLength " + std::to_string(h.batch_length) + " is below the " +
                     std::to_string(kMinBatchLength) + " bytes of header it counts");
  }
  if (h.size_bytes() > bytes.size()) {
    return error(errc::batch_length_exceeds_buffer,
                 at(position) + "batchLength " + std::to_string(h.batch_length) + " exceeds the " +
                     std::to_string(bytes.size() - kBatchLogOverheadBytes) + " bytes present");
  }
  if (h.size_bytes() > limits.max_batch_bytes) {
    return error(errc::batch_too_large,
                 at(position) + "batch of " + std::to_string(h.size_bytes()) +
                     " bytes exceeds the maximum of " + std::to_string(limits.max_batch_bytes));
  }
  if (h.magic != kMagicV2) {
    return error(errc::bad_magic,
                 at(position) + "magic " + std::to_string(h.magic) + ", expected 2");
  }
  const uint32_t crc = compute_batch_crc(bytes.first(h.size_bytes()));
  if (crc != h.crc) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "stored CRC32C 0x%08x but the bytes give 0x%08x", h.crc, crc);
    return error(errc::crc_mismatch, at(position) + buf);
  }
  const int codec = h.attributes & attr::compression_mask;
  if (codec > static_cast<int>(compression::zstd)) {
    return error(errc::unsupported_compression,
                 at(position) + "compression codec " + std::to_string(codec) + " is reserved");
  }
  if ((h.attributes & kReservedAttributeBits) != 0) {
    return error(errc::bad_attributes, at(position) + "attributes " + std::to_string(h.attributes) +
                                           " set reserved bits 7..15");
  }
  if (h.record_count < 0) {
    return error(errc::bad_record_count,
                 at(position) + "recordCount " + std::to_string(h.record_count) + " is negative");
  }
  // A bound that costs nothing: every record takes at least kMinRecordBytes
  // of the (decompressed) payload.
  const size_t payload_bytes = h.size_bytes() - kBatchHeaderBytes;
  const size_t payload_max =
      h.codec() == compression::none ? payload_bytes : limits.max_decompressed_bytes;
  if (static_cast<size_t>(h.record_count) > payload_max / kMinRecordBytes) {
    return error(errc::bad_record_count, at(position) + "recordCount " +
                                             std::to_string(h.record_count) + " cannot fit in " +
                                             std::to_string(payload_max) + " payload bytes");
  }
  if (h.last_offset_delta < 0 || (h.record_count > 0 && h.last_offset_delta < h.record_count - 1)) {
    return error(errc::bad_last_offset_delta,
                 at(position) + "lastOffsetDelta " + std::to_string(h.last_offset_delta) +
                     " with recordCount " + std::to_string(h.record_count));
  }
  int64_t last_offset = 0;
  if (h.base_offset < 0 ||
      __builtin_add_overflow(h.base_offset, int64_t{h.last_offset_delta}, &last_offset)) {
    return error(errc::bad_base_offset,
                 at(position) + "baseOffset " + std::to_string(h.base_offset) +
                     " with lastOffsetDelta " + std::to_string(h.last_offset_delta));
  }
  // With hasDeleteHorizonMs, baseTimestamp is the delete horizon, which
  // compaction may set past maxTimestamp.
  const bool delete_horizon = (h.attributes & attr::delete_horizon) != 0;
  if (!delete_horizon && h.base_timestamp >= 0 && h.max_timestamp >= 0 &&
      h.max_timestamp < h.base_timestamp) {
    return error(errc::bad_timestamp,
                 at(position) + "maxTimestamp " + std::to_string(h.max_timestamp) +
                     " is below baseTimestamp " + std::to_string(h.base_timestamp));
  }
  KAPPA_RETURN_IF_ERROR(check_producer_fields(h, position));
  return h;
}

Status check_records(byte_view batch, const batch_header& h, size_t position,
                     const validation_limits& limits) {
  byte_buffer scratch;
  auto payload = records_payload(batch, scratch, limits.max_decompressed_bytes);
  if (!payload.ok())
    return Status(payload.status().code(), at(position) + payload.status().message());

  const bool check_timestamps = (h.attributes & attr::log_append_time) == 0;
  record_reader reader(*payload, h.base_offset, h.base_timestamp);
  record_view r;
  record_deltas d;
  int64_t max_seen = INT64_MIN;
  int32_t previous_delta = -1;
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (reader.at_end()) {
      return error(errc::bad_record_count, at(position) + "recordCount " +
                                               std::to_string(h.record_count) +
                                               " but the records end after " + std::to_string(i));
    }
    Status st = reader.next(r, &d);
    if (!st.ok()) return Status(st.code(), at(position) + st.message());
    // Producers number records 0..n-1; control batches need only ascend.
    const bool offset_ok =
        h.is_control() ? (d.offset_delta > previous_delta && d.offset_delta <= h.last_offset_delta)
                       : d.offset_delta == i;
    if (!offset_ok) {
      return error(errc::bad_record, at(position) + "record " + std::to_string(i) +
                                         " has offsetDelta " + std::to_string(d.offset_delta) +
                                         " (lastOffsetDelta " +
                                         std::to_string(h.last_offset_delta) + ")");
    }
    previous_delta = d.offset_delta;
    // No lower bound: baseTimestamp is the first record's timestamp, not the
    // smallest, and Kafka producers write later records with earlier
    // timestamps (a negative timestampDelta) when the user supplies them.
    if (check_timestamps && r.timestamp > h.max_timestamp) {
      return error(errc::bad_timestamp, at(position) + "record " + std::to_string(i) +
                                            " timestamp " + std::to_string(r.timestamp) +
                                            " exceeds maxTimestamp " +
                                            std::to_string(h.max_timestamp));
    }
    max_seen = std::max(max_seen, r.timestamp);
  }
  if (!reader.at_end()) {
    return error(errc::trailing_bytes,
                 at(position) + std::to_string(payload->size() - reader.position()) +
                     " bytes left after the " + std::to_string(h.record_count) +
                     " records recordCount declares");
  }
  if (!h.is_control() && h.record_count > 0 && h.last_offset_delta != h.record_count - 1) {
    return error(errc::bad_last_offset_delta, at(position) + "lastOffsetDelta " +
                                                  std::to_string(h.last_offset_delta) + " but " +
                                                  std::to_string(h.record_count) + " records");
  }
  if (check_timestamps && h.record_count > 0 && max_seen != h.max_timestamp) {
    return error(errc::bad_timestamp,
                 at(position) + "maxTimestamp " + std::to_string(h.max_timestamp) +
                     " but the largest record timestamp is " + std::to_string(max_seen));
  }
  return Status();
}

Result<batch_header> validate_at(byte_view bytes, size_t position, const validation_limits& limits,
                                 validation_depth depth) {
  KAPPA_ASSIGN_OR_RETURN(const batch_header h, check_header(bytes, position, limits));
  if (depth == validation_depth::records) {
    KAPPA_RETURN_IF_ERROR(check_records(bytes.first(h.size_bytes()), h, position, limits));
  }
  return h;
}

}  // namespace

Result<batch_header> validate_batch(byte_view bytes, const validation_limits& limits,
                                    validation_depth depth) {
  return validate_at(bytes, 0, limits, depth);
}

Result<std::vector<batch_header>> validate_batches(byte_view bytes, const validation_limits& limits,
                                                   validation_depth depth) {
  std::vector<batch_header> headers;
  size_t position = 0;
  do {
    KAPPA_ASSIGN_OR_RETURN(const batch_header h,
                           validate_at(bytes.subspan(position), position, limits, depth));
    headers.push_back(h);
    position += h.size_bytes();
  } while (position < bytes.size());
  return headers;
}

}  // namespace kappa::format
