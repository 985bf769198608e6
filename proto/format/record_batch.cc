// Header encoding of RecordBatch v2; the layout is in record_batch.h.
#include "proto/format/record_batch.h"

#include "proto/format/assert.h"
#include "proto/format/crc32c.h"
#include "proto/format/endian.h"

namespace kappa::format {

batch_header read_header(byte_view bytes) {
  KAPPA_ASSERT(bytes.size() >= kBatchHeaderBytes);
  const uint8_t* p = bytes.data();
  batch_header h;
  h.base_offset = load_be<int64_t>(p + pos::base_offset);
  h.batch_length = load_be<int32_t>(p + pos::batch_length);
  h.partition_leader_epoch = load_be<int32_t>(p + pos::partition_leader_epoch);
  h.magic = load_be<int8_t>(p + pos::magic);
  h.crc = load_be<uint32_t>(p + pos::crc);
  h.attributes = load_be<int16_t>(p + pos::attributes);
  h.last_offset_delta = load_be<int32_t>(p + pos::last_offset_delta);
  h.base_timestamp = load_be<int64_t>(p + pos::base_timestamp);
  h.max_timestamp = load_be<int64_t>(p + pos::max_timestamp);
  h.producer_id = load_be<int64_t>(p + pos::producer_id);
  h.producer_epoch = load_be<int16_t>(p + pos::producer_epoch);
  h.base_sequence = load_be<int32_t>(p + pos::base_sequence);
  h.record_count = load_be<int32_t>(p + pos::record_count);
  return h;
}

void write_header(const batch_header& h, mutable_byte_view out) {
  KAPPA_ASSERT(out.size() >= kBatchHeaderBytes);
  uint8_t* p = out.data();
  store_be(p + pos::base_offset, h.base_offset);
  store_be(p + pos::batch_length, h.batch_length);
  store_be(p + pos::partition_leader_epoch, h.partition_leader_epoch);
  store_be(p + pos::magic, h.magic);
  store_be(p + pos::crc, h.crc);
  store_be(p + pos::attributes, h.attributes);
  store_be(p + pos::last_offset_delta, h.last_offset_delta);
  store_be(p + pos::base_timestamp, h.base_timestamp);
  store_be(p + pos::max_timestamp, h.max_timestamp);
  store_be(p + pos::producer_id, h.producer_id);
  store_be(p + pos::producer_epoch, h.producer_epoch);
  store_be(p + pos::base_sequence, h.base_sequence);
  store_be(p + pos::record_count, h.record_count);
}

uint32_t compute_batch_crc(byte_view batch) {
  KAPPA_ASSERT(batch.size() >= kBatchHeaderBytes);
  return crc32c(batch.subspan(pos::attributes));
}

void stamp_batch(mutable_byte_view batch, int64_t base_offset, int32_t partition_leader_epoch) {
  KAPPA_ASSERT(batch.size() >= kBatchHeaderBytes);
  // Both fields lie before pos::attributes, outside what the CRC covers.
  static_assert(pos::base_offset + 8 <= pos::attributes);
  static_assert(pos::partition_leader_epoch + 4 <= pos::attributes);
  store_be(batch.data() + pos::base_offset, base_offset);
  store_be(batch.data() + pos::partition_leader_epoch, partition_leader_epoch);
}

}  // namespace kappa::format
