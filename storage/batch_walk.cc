#include "storage/batch_walk.h"

#include <limits>

#include "proto/format/endian.h"

namespace kappa::storage {

format::validation_limits recovery_limits() {
  format::validation_limits l;
  l.max_batch_bytes = std::numeric_limits<int32_t>::max();
  return l;
}

namespace {

// True if a valid batch with base offset > after_offset starts at some
// position >= from. Byte by byte, rejecting cheaply (magic byte, length,
// offset) before paying for a CRC.
bool valid_batch_from(byte_view bytes, uint64_t from, int64_t after_offset) {
  const auto limits = recovery_limits();
  for (uint64_t p = from; p + format::kBatchHeaderBytes <= bytes.size(); ++p) {
    const uint8_t* b = bytes.data() + p;
    if (static_cast<int8_t>(b[format::pos::magic]) != format::kMagicV2) continue;
    int32_t len = format::load_be<int32_t>(b + format::pos::batch_length);
    if (len < static_cast<int32_t>(format::kBatchHeaderBytes - format::kBatchLogOverheadBytes)) continue;
    if (p + format::kBatchLogOverheadBytes + static_cast<uint64_t>(len) > bytes.size()) continue;
    if (format::load_be<int64_t>(b + format::pos::base_offset) <= after_offset) continue;
    if (format::validate_batch(bytes.subspan(p), limits, format::validation_depth::header_and_crc).ok()) {
      return true;
    }
  }
  return false;
}

segment_walk walk_one(size_t index, const segment_input& in, int64_t expected, bool final_segment,
                      const batch_visitor& visit) {
  const auto limits = recovery_limits();
  segment_walk w;
  w.next_offset = expected;
  int64_t last_offset = expected - 1;
  uint64_t pos = 0;
  while (pos < in.bytes.size()) {
    auto h = format::validate_batch(in.bytes.subspan(pos), limits, format::validation_depth::header_and_crc);
    if (!h.ok()) {
      batch_damage d{pos, "invalid batch: " + h.status().message(), false};
      // Only the final segment can have a torn tail, so only there is the
      // (byte-by-byte) search for later valid data worth its cost.
      if (final_segment) d.valid_data_after = valid_batch_from(in.bytes, pos + 1, last_offset);
      w.damage = std::move(d);
      return w;
    }
    if (expected >= 0 && h->base_offset != expected) {
      w.damage = batch_damage{pos, "batch has base offset " + std::to_string(h->base_offset) +
                                       " where offset " + std::to_string(expected) + " was expected",
                              true};
      return w;
    }
    if (visit) visit(index, pos, *h);
    pos += h->size_bytes();
    ++w.batches;
    last_offset = h->last_offset();
    expected = last_offset + 1;
    w.next_offset = expected;
    w.valid_bytes = pos;
  }
  return w;
}

}  // namespace

scan_result scan_segments(std::span<const segment_input> segments, const batch_visitor& visit) {
  scan_result r;
  int64_t expected = segments.empty() ? -1 : segments.front().base_offset;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& in = segments[i];
    const bool final_segment = i + 1 == segments.size();
    if (i > 0 && in.base_offset >= 0 && expected >= 0 && in.base_offset != expected) {
      r.walks.push_back(segment_walk{0, 0, expected, std::nullopt});
      r.verdict = scan_verdict::corruption;
      r.segment = i;
      r.position = 0;
      r.message = in.path + ": segment starts at offset " + std::to_string(in.base_offset) +
                  " but the previous segment ends before offset " + std::to_string(expected);
      return r;
    }
    if (in.base_offset >= 0) expected = in.base_offset;
    segment_walk w = walk_one(i, in, expected, final_segment, visit);
    r.batches += w.batches;
    if (w.next_offset >= 0) r.next_offset = w.next_offset;
    expected = w.next_offset;
    if (w.damage) {
      r.verdict = classify_damage(final_segment, w.damage->valid_data_after);
      r.segment = i;
      r.position = w.damage->position;
      const char* why = r.verdict == scan_verdict::torn_tail ? " (nothing valid follows: torn tail)"
                         : final_segment                  ? " (valid data follows: corruption)"
                                                          : " (in a non-final segment: corruption)";
      r.message = in.path + " at byte " + std::to_string(w.damage->position) + ": " + w.damage->message + why;
      r.walks.push_back(std::move(w));
      return r;
    }
    r.walks.push_back(std::move(w));
  }
  return r;
}

}  // namespace kappa::storage
