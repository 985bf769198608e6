// ISA-L's crc32_iscsi applies neither the initial nor the final inversion
// itself: it takes the raw register as `init_crc` and returns the raw
// register. Standard CRC32C is therefore ~crc32_iscsi(data, len, ~0), and
// extending a finished CRC means un-inverting it first.
#include "proto/format/crc32c.h"

#include <isa-l.h>

#include <algorithm>
#include <climits>

namespace kappa::format {

uint32_t crc32c_extend(uint32_t crc, byte_view data) {
  uint32_t raw = ~crc;
  // crc32_iscsi takes an int length (and a non-const pointer it only reads).
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    size_t n = std::min<size_t>(left, size_t{1} << 30);
    raw = crc32_iscsi(const_cast<unsigned char*>(p), static_cast<int>(n), raw);
    p += n;
    left -= n;
  }
  return ~raw;
}

}  // namespace kappa::format
