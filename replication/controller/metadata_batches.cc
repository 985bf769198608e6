#include "replication/controller/metadata_batches.h"

#include <algorithm>

#include "proto/format/record_batch.h"
#include "proto/format/records.h"
#include "replication/controller/errc.h"

namespace kappa::controller {

Result<std::string> build_metadata_batch(const std::vector<metadata_record>& records,
                                         int64_t timestamp_ms) {
  KAPPA_ASSERT(!records.empty());
  std::vector<format::record> recs;
  recs.reserve(records.size());
  for (const auto& r : records) {
    format::record k;
    k.value = encode_record(r);
    k.timestamp = timestamp_ms;
    recs.push_back(std::move(k));
  }
  KAPPA_ASSIGN_OR_RETURN(auto bytes, format::build_batch(format::batch_options{}, recs));
  return std::string(bytes.begin(), bytes.end());
}

Result<int64_t> walk_metadata_batches(byte_view batches, int64_t from,
                                      const std::function<Status(int64_t, metadata_record)>& fn) {
  int64_t next = from;
  byte_buffer scratch;
  while (!batches.empty()) {
    if (batches.size() < format::kBatchHeaderBytes) {
      return error(errc::unknown_server_error, "metadata log: truncated batch header");
    }
    const auto h = format::read_header(batches);
    const size_t size = h.size_bytes();
    if (h.batch_length <= 0 || size > batches.size()) {
      return error(errc::unknown_server_error,
                   "metadata log: bad batch length at offset " + std::to_string(h.base_offset));
    }
    const byte_view batch = batches.first(size);
    batches = batches.subspan(size);
    next = std::max(next, h.last_offset() + 1);
    if (h.is_control() || h.last_offset() < from) continue;
    auto recs = format::decode_records(batch, scratch);
    if (!recs.ok()) {
      return error(errc::unknown_server_error, "metadata log: batch at offset " +
                                                   std::to_string(h.base_offset) + ": " +
                                                   recs.status().message());
    }
    for (const auto& r : *recs) {
      if (r.offset < from) continue;
      if (!r.value) {
        return error(errc::unknown_server_error,
                     "metadata log: null record at offset " + std::to_string(r.offset));
      }
      auto m = decode_record(std::string(as_chars(*r.value)));
      if (!m.ok()) {
        return error(
            errc::unknown_server_error,
            "metadata log: offset " + std::to_string(r.offset) + ": " + m.status().message());
      }
      KAPPA_RETURN_IF_ERROR(fn(r.offset, std::move(*m)));
    }
  }
  return next;
}

}  // namespace kappa::controller
