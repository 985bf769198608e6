// Kafka RecordBatch v2 (magic 2): the one format Kappa uses on the wire, on
// disk and in replication.
//
// Grammar (all integers big-endian):
//
//   batch    := baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32
//               magic:int8(=2) crc:uint32 attributes:int16 lastOffsetDelta:int32
//               baseTimestamp:int64 maxTimestamp:int64 producerId:int64
//               producerEpoch:int16 baseSequence:int32 recordCount:int32
//               payload
//   payload  := record{recordCount}, compressed as a whole per attributes bits 0..2
//   record   := length:varint attributes:int8 timestampDelta:varlong
//               offsetDelta:varint keyLength:varint key valueLength:varint value
//               headerCount:varint header{headerCount}
//   header   := keyLength:varint key valueLength:varint value
//
// varint/varlong are zigzag-encoded (protobuf sint32/sint64); a length of -1
// means null. batchLength counts the bytes after the batchLength field, so a
// batch occupies 12 + batchLength bytes. The CRC32C covers attributes..end,
// which is why the broker may stamp baseOffset and partitionLeaderEpoch without
// recomputing it.
//
// attributes: bits 0..2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
// bit 3 timestampType (1 = LogAppendTime), bit 4 isTransactional, bit 5
// isControlBatch, bit 6 hasDeleteHorizonMs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/format/bytes.h"

namespace kappa::format {

inline constexpr size_t kBatchHeaderBytes = 61;
// baseOffset and batchLength precede what batchLength counts.
inline constexpr size_t kBatchLogOverheadBytes = 12;
inline constexpr int8_t kMagicV2 = 2;

// Byte positions of the header fields.
namespace pos {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;  // the CRC covers from here to the end
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
}  // namespace pos
static_assert(pos::record_count + 4 == kBatchHeaderBytes);

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

namespace attr {
inline constexpr int16_t compression_mask = 0x07;
inline constexpr int16_t log_append_time = 0x08;
inline constexpr int16_t transactional = 0x10;
inline constexpr int16_t control = 0x20;
inline constexpr int16_t delete_horizon = 0x40;
}  // namespace attr

struct batch_header {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  compression codec() const { return static_cast<compression>(attributes & attr::compression_mask); }
  bool is_control() const { return (attributes & attr::control) != 0; }
  bool is_transactional() const { return (attributes & attr::transactional) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // Bytes the whole batch occupies: 12 + batchLength.
  size_t size_bytes() const { return kBatchLogOverheadBytes + static_cast<size_t>(batch_length); }
};

// Decodes the 61 header bytes. Checks nothing beyond that.
// REQUIRES: bytes.size() >= kBatchHeaderBytes.
batch_header read_header(byte_view bytes);

// Encodes `h` into the first 61 bytes of `out` (crc written as given).
// REQUIRES: out.size() >= kBatchHeaderBytes.
void write_header(const batch_header& h, mutable_byte_view out);

// CRC32C over attributes..end of one whole batch.
// REQUIRES: batch.size() >= kBatchHeaderBytes.
uint32_t compute_batch_crc(byte_view batch);

// Overwrites baseOffset and partitionLeaderEpoch in place. The CRC stays valid.
// REQUIRES: batch.size() >= kBatchHeaderBytes.
void stamp_batch(mutable_byte_view batch, int64_t base_offset, int32_t partition_leader_epoch);

}  // namespace kappa::format
