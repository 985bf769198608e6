// CRC32C (Castagnoli, the iSCSI polynomial), as Kafka's RecordBatch v2 uses
// it: initial value 0xFFFFFFFF, final xor 0xFFFFFFFF, reflected. The standard
// check value holds: crc32c(as_bytes("123456789")) == 0xE3069283.
//
// Incremental use follows LevelDB's crc32c::Extend: the running value is
// always a finished CRC, so
//   crc32c_extend(crc32c(a), b) == crc32c(a + b)
// and the CRC of nothing is 0.
#pragma once

#include <cstdint>

#include "proto/format/bytes.h"

namespace kappa::format {

// CRC32C of `data` appended to bytes whose CRC32C is `crc`.
uint32_t crc32c_extend(uint32_t crc, byte_view data);

inline uint32_t crc32c(byte_view data) {
  return crc32c_extend(0, data);
}

}  // namespace kappa::format
