// Varint encoding and bounds-checked decoding. The decoder is strict: a
// 5th varint byte may only carry the top 4 bits of 32, a 10th varlong byte
// only bit 63, because no correct encoder writes more and accepting more
// would let two different byte strings decode to the same record.
#include "proto/format/varint.h"

#include <string>

namespace kappa::format {
namespace {

size_t unsigned_size(uint64_t u) {
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++n;
  }
  return n;
}

void append_unsigned(byte_buffer& out, uint64_t u) {
  while (u >= 0x80) {
    out.push_back(static_cast<uint8_t>(u | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<uint8_t>(u));
}

// Reads an unsigned LEB128 of at most `max_bytes` bytes whose value fits in
// `value_bits` bits.
Result<uint64_t> read_unsigned(byte_view in, size_t& pos, size_t max_bytes, unsigned value_bits,
                               const char* what) {
  uint64_t value = 0;
  size_t p = pos;
  for (size_t i = 0; i < max_bytes; ++i, ++p) {
    if (p >= in.size()) {
      return error(errc::bad_record, std::string(what) + " at byte " + std::to_string(pos) +
                                         " runs past the end of the " + std::to_string(in.size()) +
                                         " bytes present");
    }
    const uint64_t b = in[p];
    const unsigned shift = static_cast<unsigned>(7 * i);
    if (i + 1 == max_bytes && (b >> (value_bits - shift)) != 0) {
      // Either the continuation bit is set (more than max_bytes bytes) or
      // the last byte carries bits above value_bits.
      return error(errc::bad_record, std::string(what) + " at byte " + std::to_string(pos) +
                                         " is longer than " + std::to_string(max_bytes) +
                                         " bytes or overflows " + std::to_string(value_bits) +
                                         " bits");
    }
    value |= (b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      pos = p + 1;
      return value;
    }
  }
  KAPPA_ASSERT(false);  // the last iteration always returns
  return value;
}

}  // namespace

size_t varint_size(int32_t v) {
  return unsigned_size(zigzag_encode32(v));
}
size_t varlong_size(int64_t v) {
  return unsigned_size(zigzag_encode64(v));
}

void append_varint(byte_buffer& out, int32_t v) {
  append_unsigned(out, zigzag_encode32(v));
}
void append_varlong(byte_buffer& out, int64_t v) {
  append_unsigned(out, zigzag_encode64(v));
}

Result<int32_t> read_varint(byte_view in, size_t& pos) {
  // Fast path: most varints in a record are one byte.
  if (pos < in.size() && in[pos] < 0x80) {
    return zigzag_decode32(in[pos++]);
  }
  auto r = read_unsigned(in, pos, kMaxVarintBytes, 32, "varint");
  if (!r.ok()) return r.status();
  return zigzag_decode32(static_cast<uint32_t>(*r));
}

Result<int64_t> read_varlong(byte_view in, size_t& pos) {
  if (pos < in.size() && in[pos] < 0x80) {
    return zigzag_decode64(in[pos++]);
  }
  auto r = read_unsigned(in, pos, kMaxVarlongBytes, 64, "varlong");
  if (!r.ok()) return r.status();
  return zigzag_decode64(*r);
}

}  // namespace kappa::format
