// Decoding of one record; the grammar is in record_batch.h.
#include "proto/format/record_reader.h"

#include <string>

#include "proto/format/errc.h"
#include "proto/format/varint.h"

namespace kappa::format {
namespace {

// Reads a length-prefixed byte string (length -1 = null) from body[pos..).
Status read_bytes(byte_view body, size_t& pos, bool nullable, const char* what,
                  std::optional<byte_view>& out) {
  const size_t at = pos;
  auto len = read_varint(body, pos);
  if (!len.ok())
    return error(errc::bad_record, std::string(what) + " length: " + len.status().message());
  if (*len < 0) {
    if (*len == -1 && nullable) {
      out.reset();
      return Status();
    }
    return error(errc::bad_record, std::string(what) + " length " + std::to_string(*len) +
                                       " at byte " + std::to_string(at) + " is negative");
  }
  const size_t n = static_cast<size_t>(*len);
  if (n > body.size() - pos) {
    return error(errc::bad_record, std::string(what) + " length " + std::to_string(n) +
                                       " at byte " + std::to_string(at) + " exceeds the " +
                                       std::to_string(body.size() - pos) +
                                       " bytes left in the record");
  }
  out = body.subspan(pos, n);
  pos += n;
  return Status();
}

}  // namespace

Status record_reader::next(record_view& out, record_deltas* deltas) {
  KAPPA_ASSERT(!at_end());
  const size_t start = pos_;
  // Built only on failure: the success path allocates nothing but headers.
  auto where = [&] {
    return "record " + std::to_string(count_) + " at byte " + std::to_string(start);
  };
  auto bad = [&](const std::string& what) {
    return error(errc::bad_record, where() + ": " + what);
  };

  size_t p = pos_;
  auto length = read_varint(payload_, p);
  if (!length.ok()) return bad("length: " + length.status().message());
  if (*length < 0 || static_cast<size_t>(*length) > payload_.size() - p) {
    return bad("length " + std::to_string(*length) + " exceeds the " +
               std::to_string(payload_.size() - p) + " bytes left");
  }
  // Field positions below are relative to the record body.
  const byte_view body = payload_.subspan(p, static_cast<size_t>(*length));
  size_t b = 0;
  if (body.empty()) return bad("empty record body");
  const int8_t attributes = static_cast<int8_t>(body[b++]);
  auto ts_delta = read_varlong(body, b);
  if (!ts_delta.ok()) return bad("timestampDelta: " + ts_delta.status().message());
  auto offset_delta = read_varint(body, b);
  if (!offset_delta.ok()) return bad("offsetDelta: " + offset_delta.status().message());

  if (__builtin_add_overflow(base_timestamp_, *ts_delta, &out.timestamp)) {
    return error(errc::bad_timestamp, where() + ": baseTimestamp " +
                                          std::to_string(base_timestamp_) + " + timestampDelta " +
                                          std::to_string(*ts_delta) + " overflows");
  }
  if (__builtin_add_overflow(base_offset_, static_cast<int64_t>(*offset_delta), &out.offset)) {
    return error(errc::bad_base_offset, where() + ": baseOffset " + std::to_string(base_offset_) +
                                            " + offsetDelta " + std::to_string(*offset_delta) +
                                            " overflows");
  }

  Status st = read_bytes(body, b, true, "key", out.key);
  if (!st.ok()) return bad(st.message());
  st = read_bytes(body, b, true, "value", out.value);
  if (!st.ok()) return bad(st.message());

  auto header_count = read_varint(body, b);
  if (!header_count.ok()) return bad("headerCount: " + header_count.status().message());
  // Each header takes at least two bytes (its two lengths).
  if (*header_count < 0 || static_cast<size_t>(*header_count) > (body.size() - b) / 2) {
    return bad("headerCount " + std::to_string(*header_count) + " cannot fit in the " +
               std::to_string(body.size() - b) + " bytes left");
  }
  out.headers.clear();
  for (int32_t i = 0; i < *header_count; ++i) {
    std::optional<byte_view> key;
    std::optional<byte_view> value;
    st = read_bytes(body, b, false, "header key", key);  // Kafka forbids null header keys
    if (!st.ok()) return bad("header " + std::to_string(i) + ": " + st.message());
    st = read_bytes(body, b, true, "header value", value);
    if (!st.ok()) return bad("header " + std::to_string(i) + ": " + st.message());
    out.headers.push_back(record_header_view{as_chars(*key), value});
  }
  if (b != body.size()) {
    return bad("length " + std::to_string(body.size()) + " but its fields end after " +
               std::to_string(b) + " bytes");
  }
  if (deltas != nullptr) *deltas = record_deltas{*ts_delta, *offset_delta, attributes};
  pos_ = p + body.size();
  ++count_;
  return Status();
}

}  // namespace kappa::format
