#include "client/src/fetch_decode.h"

#include <algorithm>

#include "proto/format/batch_validator.h"
#include "proto/format/record_batch.h"
#include "proto/format/records.h"

namespace kappa::client {

int64_t next_fetch_offset(std::string_view bytes, int64_t fallback) {
  const byte_view all = as_bytes(bytes);
  int64_t next = fallback;
  size_t pos = 0;
  while (all.size() - pos >= format::kBatchHeaderBytes) {
    const format::batch_header h = format::read_header(all.subspan(pos));
    if (h.batch_length < 0 || h.size_bytes() > all.size() - pos) break;
    next = std::max(next, h.last_offset() + 1);
    pos += h.size_bytes();
  }
  return next;
}

size_t declared_record_count(std::string_view bytes) {
  const byte_view all = as_bytes(bytes);
  size_t count = 0;
  size_t pos = 0;
  while (all.size() - pos >= format::kBatchHeaderBytes) {
    const format::batch_header h = format::read_header(all.subspan(pos));
    if (h.batch_length < 0 || h.size_bytes() > all.size() - pos) break;
    count += static_cast<size_t>(std::max(0, h.record_count));
    pos += h.size_bytes();
  }
  return count;
}

Result<decoded_chunk> decode_fetched(std::string_view bytes, const std::string& topic, int32_t partition,
                                     int64_t position, bool check_crcs, std::vector<consumed_record>& out) {
  const byte_view all = as_bytes(bytes);
  decoded_chunk chunk;
  chunk.next_offset = position;
  byte_buffer scratch;
  size_t pos = 0;
  format::validation_limits limits;
  limits.max_batch_bytes = all.size();  // the broker enforces the real limit
  while (all.size() - pos >= format::kBatchHeaderBytes) {
    const byte_view rest = all.subspan(pos);
    format::batch_header h = format::read_header(rest);
    if (h.batch_length < 0 || h.size_bytes() > rest.size()) break;  // partial tail
    // Built only on failure: formatting it per batch shows up in replay profiles.
    auto where = [&] {
      return topic + "-" + std::to_string(partition) + " batch at offset " + std::to_string(h.base_offset);
    };
    if (check_crcs) {
      auto valid = format::validate_batch(rest, limits, format::validation_depth::header_and_crc);
      if (!valid.ok()) return client_error(client_errc::corrupt_message, where() + ": " + valid.status().message());
    }
    pos += h.size_bytes();
    if (h.last_offset() < position) {
      chunk.records_below_position_skipped += static_cast<size_t>(std::max(0, h.record_count));
      continue;
    }
    chunk.next_offset = std::max(chunk.next_offset, h.last_offset() + 1);
    if (h.is_control()) {
      ++chunk.control_batches_skipped;
      continue;
    }
    auto records = format::decode_records(rest.first(h.size_bytes()), scratch);
    if (!records.ok()) return client_error(client_errc::corrupt_message, where() + ": " + records.status().message());
    for (const auto& r : *records) {
      if (r.offset < position) {
        ++chunk.records_below_position_skipped;
        continue;
      }
      consumed_record c;
      c.topic = topic;
      c.partition = partition;
      c.offset = r.offset;
      c.timestamp_ms = (h.attributes & format::attr::log_append_time) ? h.max_timestamp : r.timestamp;
      if (r.key) c.key.emplace(as_chars(*r.key));
      if (r.value) c.value.emplace(as_chars(*r.value));
      for (const auto& hv : r.headers) {
        header hd;
        hd.key = std::string(hv.key);
        if (hv.value) hd.value.emplace(as_chars(*hv.value));
        c.headers.push_back(std::move(hd));
      }
      out.push_back(std::move(c));
    }
  }
  return chunk;
}

}  // namespace kappa::client
