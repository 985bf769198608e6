// Whole-batch record decoding and batch building (producer side, tests).
#include "proto/format/records.h"

#include <algorithm>
#include <climits>
#include <string>

#include "proto/format/compression.h"
#include "proto/format/errc.h"
#include "proto/format/record_reader.h"
#include "proto/format/varint.h"

namespace kappa::format {

Result<byte_view> records_payload(byte_view batch, byte_buffer& scratch,
                                  size_t max_decompressed_bytes) {
  KAPPA_ASSERT(batch.size() >= kBatchHeaderBytes);
  const batch_header h = read_header(batch);
  const byte_view compressed = batch.subspan(kBatchHeaderBytes);
  const int codec = h.attributes & attr::compression_mask;
  if (codec > static_cast<int>(compression::zstd)) {
    return error(errc::unsupported_compression, "compression codec " + std::to_string(codec) +
                                                    " is reserved (attributes " +
                                                    std::to_string(h.attributes) + ")");
  }
  if (h.codec() == compression::none || (compressed.empty() && h.record_count == 0))
    return compressed;
  KAPPA_RETURN_IF_ERROR(decompress_into(h.codec(), compressed, max_decompressed_bytes, scratch));
  return byte_view(scratch);
}

Result<std::vector<record_view>> decode_records(byte_view batch, byte_buffer& scratch,
                                                size_t max_decompressed_bytes) {
  // The caller validated the batch, but decoding stays safe on any bytes.
  if (batch.size() < kBatchHeaderBytes) {
    return error(errc::truncated_header, std::to_string(batch.size()) +
                                             " bytes present, a batch header needs " +
                                             std::to_string(kBatchHeaderBytes));
  }
  const batch_header h = read_header(batch);
  if (h.batch_length < static_cast<int32_t>(kBatchHeaderBytes - kBatchLogOverheadBytes)) {
    return error(errc::batch_length_too_small, "batchLength " + std::to_string(h.batch_length) +
                                                   " is below the header's own size");
  }
  if (h.size_bytes() > batch.size()) {
    return error(errc::batch_length_exceeds_buffer,
                 "batchLength " + std::to_string(h.batch_length) + " exceeds the " +
                     std::to_string(batch.size() - kBatchLogOverheadBytes) + " bytes present");
  }
  batch = batch.first(h.size_bytes());
  if (h.record_count < 0) {
    return error(errc::bad_record_count,
                 "recordCount " + std::to_string(h.record_count) + " is negative");
  }
  KAPPA_ASSIGN_OR_RETURN(const byte_view payload,
                         records_payload(batch, scratch, max_decompressed_bytes));

  std::vector<record_view> records;
  // Never reserve on the declared count alone: bound it by what fits.
  records.reserve(std::min(static_cast<size_t>(h.record_count), payload.size() / kMinRecordBytes));
  record_reader reader(payload, h.base_offset, h.base_timestamp);
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (reader.at_end()) {
      return error(errc::bad_record_count, "recordCount " + std::to_string(h.record_count) +
                                               " but the records end after " + std::to_string(i));
    }
    KAPPA_RETURN_IF_ERROR(reader.next(records.emplace_back()));
  }
  if (!reader.at_end()) {
    return error(errc::trailing_bytes,
                 std::to_string(payload.size() - reader.position()) + " bytes left after the " +
                     std::to_string(h.record_count) + " records recordCount declares");
  }
  return records;
}

namespace {

Status check_length(size_t n, const char* what, size_t index) {
  if (n > static_cast<size_t>(INT32_MAX)) {
    return error(errc::bad_record, "record " + std::to_string(index) + ": " + what + " of " +
                                       std::to_string(n) + " bytes does not fit an int32 length");
  }
  return Status();
}

void append_bytes(byte_buffer& out, const std::optional<std::string>& s) {
  if (!s) {
    append_varint(out, -1);
    return;
  }
  append_varint(out, static_cast<int32_t>(s->size()));
  // Through uint8_t pointers: a char iterator range is copied byte by byte.
  const auto* p = reinterpret_cast<const uint8_t*>(s->data());
  out.insert(out.end(), p, p + s->size());
}

// Appends one record (length prefix and body).
Status append_record(byte_buffer& out, const record& r, int32_t offset_delta,
                     int64_t base_timestamp, byte_buffer& body) {
  const size_t index = static_cast<size_t>(offset_delta);
  int64_t ts_delta = 0;
  if (__builtin_sub_overflow(r.timestamp, base_timestamp, &ts_delta)) {
    return error(errc::bad_timestamp,
                 "record " + std::to_string(index) + ": timestamp " + std::to_string(r.timestamp) +
                     " is too far from baseTimestamp " + std::to_string(base_timestamp));
  }
  if (r.key) KAPPA_RETURN_IF_ERROR(check_length(r.key->size(), "key", index));
  if (r.value) KAPPA_RETURN_IF_ERROR(check_length(r.value->size(), "value", index));
  KAPPA_RETURN_IF_ERROR(check_length(r.headers.size(), "header count", index));
  body.clear();
  body.push_back(0);  // record attributes: unused by Kafka, always 0
  append_varlong(body, ts_delta);
  append_varint(body, offset_delta);
  append_bytes(body, r.key);
  append_bytes(body, r.value);
  append_varint(body, static_cast<int32_t>(r.headers.size()));
  for (const record_header& h : r.headers) {
    KAPPA_RETURN_IF_ERROR(check_length(h.key.size(), "header key", index));
    if (h.value) KAPPA_RETURN_IF_ERROR(check_length(h.value->size(), "header value", index));
    append_varint(body, static_cast<int32_t>(h.key.size()));
    const auto* k = reinterpret_cast<const uint8_t*>(h.key.data());
    body.insert(body.end(), k, k + h.key.size());
    append_bytes(body, h.value);
  }
  KAPPA_RETURN_IF_ERROR(check_length(body.size(), "record", index));
  append_varint(out, static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return Status();
}

}  // namespace

Result<byte_buffer> build_batch(const batch_options& options, const std::vector<record>& records) {
  KAPPA_ASSERT(!records.empty());
  if (records.size() > static_cast<size_t>(INT32_MAX)) {
    return error(errc::bad_record_count,
                 std::to_string(records.size()) + " records do not fit an int32 count");
  }
  const auto codec_bits = static_cast<int16_t>(options.codec);
  KAPPA_ASSERT(codec_bits >= 0 && codec_bits <= static_cast<int16_t>(compression::zstd));

  batch_header h;
  h.base_offset = options.base_offset;
  h.partition_leader_epoch = options.partition_leader_epoch;
  h.attributes = static_cast<int16_t>(
      codec_bits | (options.log_append_time ? attr::log_append_time : 0) |
      (options.transactional ? attr::transactional : 0) | (options.control ? attr::control : 0));
  h.last_offset_delta = static_cast<int32_t>(records.size() - 1);
  h.base_timestamp = records.front().timestamp;
  h.max_timestamp = records.front().timestamp;
  for (const record& r : records) h.max_timestamp = std::max(h.max_timestamp, r.timestamp);
  h.producer_id = options.producer_id;
  h.producer_epoch = options.producer_epoch;
  h.base_sequence = options.base_sequence;
  h.record_count = static_cast<int32_t>(records.size());

  byte_buffer payload;
  byte_buffer body;
  for (size_t i = 0; i < records.size(); ++i) {
    KAPPA_RETURN_IF_ERROR(
        append_record(payload, records[i], static_cast<int32_t>(i), h.base_timestamp, body));
  }
  if (options.codec != compression::none) {
    KAPPA_ASSIGN_OR_RETURN(payload, compress(options.codec, payload));
  }
  const size_t batch_length = kBatchHeaderBytes - kBatchLogOverheadBytes + payload.size();
  if (batch_length > static_cast<size_t>(INT32_MAX)) {
    return error(errc::batch_too_large,
                 "batchLength " + std::to_string(batch_length) + " does not fit an int32");
  }
  h.batch_length = static_cast<int32_t>(batch_length);

  byte_buffer batch(kBatchHeaderBytes + payload.size());
  std::copy(payload.begin(), payload.end(), batch.begin() + kBatchHeaderBytes);
  write_header(h, batch);
  h.crc = compute_batch_crc(batch);
  write_header(h, batch);
  return batch;
}

}  // namespace kappa::format
