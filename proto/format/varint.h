// Zigzag varints as RecordBatch v2 records use them (protobuf sint32 and
// sint64): 7 bits per byte, least significant group first, high bit set on
// every byte but the last. A varint takes at most 5 bytes, a varlong at most
// 10.
//
// Decoding is bounds-checked: it never reads past `in`, and fails with
// errc::bad_record when the bytes run out mid-number (overrun) or when the
// number runs longer than its maximum size or carries bits that do not fit
// its type (too long). The error message names the byte position.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/format/bytes.h"
#include "proto/format/errc.h"
#include "proto/format/result.h"

namespace kappa::format {

inline constexpr size_t kMaxVarintBytes = 5;
inline constexpr size_t kMaxVarlongBytes = 10;

constexpr uint32_t zigzag_encode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr uint64_t zigzag_encode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int32_t zigzag_decode32(uint32_t u) {
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}
constexpr int64_t zigzag_decode64(uint64_t u) {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

// Encoded sizes, 1..5 and 1..10.
size_t varint_size(int32_t v);
size_t varlong_size(int64_t v);

// Appends the encoding of `v` to `out`.
void append_varint(byte_buffer& out, int32_t v);
void append_varlong(byte_buffer& out, int64_t v);

// Decode the number starting at in[pos]; on success advance `pos` past it.
// On failure `pos` is unchanged.
Result<int32_t> read_varint(byte_view in, size_t& pos);
Result<int64_t> read_varlong(byte_view in, size_t& pos);

}  // namespace kappa::format
