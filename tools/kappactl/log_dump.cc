#include "tools/kappactl/log_dump.h"

#include <algorithm>
#include <cinttypes>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/format/batch_validator.h"
#include "proto/format/record_batch.h"
#include "proto/format/records.h"
#include "storage/env.h"
#include "tools/common/output.h"
#include "tools/kappactl/exit_codes.h"
#include "tools/kappactl/segment_files.h"

namespace kappa::kappactl {
namespace {

const char* codec_name(format::compression c) {
  switch (c) {
    case format::compression::none: return "none";
    case format::compression::gzip: return "gzip";
    case format::compression::snappy: return "snappy";
    case format::compression::lz4: return "lz4";
    case format::compression::zstd: return "zstd";
  }
  return "reserved";
}

class segment_dumper {
 public:
  segment_dumper(const dump_options& options, std::FILE* out, std::FILE* err)
      : options_(options), out_(out), err_(err) {}

  bool damage_found() const { return damage_; }

  // Dumps one segment. Fails only when the file cannot be read at all;
  // damage inside it is reported on err_ and recorded in damage_found().
  Status dump_segment(const std::string& path) {
    KAPPA_ASSIGN_OR_RETURN(mapped_segment seg, map_segment(path));
    byte_view bytes = seg.region->bytes();
    if (!options_.json) {
      std::fprintf(out_, "segment %s (%zu bytes)\n", path.c_str(), bytes.size());
    }
    size_t pos = 0;
    while (pos < bytes.size()) {
      std::optional<size_t> size = frame_batch(path, bytes, pos);
      if (!size) break;  // a truncated or garbled tail: nothing after it can be framed
      dump_batch(path, bytes.subspan(pos, *size), pos);
      pos += *size;
    }
    return Status();
  }

 private:
  // The size of the batch at `pos`, or nullopt (reported) when its framing
  // cannot be trusted: without a sane length the next batch cannot be found.
  std::optional<size_t> frame_batch(const std::string& path, byte_view bytes, size_t pos) {
    size_t remaining = bytes.size() - pos;
    if (remaining < format::kBatchHeaderBytes) {
      damage(path, pos, "truncated tail: " + std::to_string(remaining) +
                            " bytes, fewer than a batch header (61); stopping this segment");
      return std::nullopt;
    }
    format::batch_header h = format::read_header(bytes.subspan(pos));
    if (h.magic != format::kMagicV2) {
      damage(path, pos, "garbled batch: magic " + std::to_string(h.magic) +
                            ", expected 2; stopping this segment");
      return std::nullopt;
    }
    if (h.batch_length < static_cast<int32_t>(format::kBatchHeaderBytes -
                                              format::kBatchLogOverheadBytes)) {
      damage(path, pos, "garbled batch: batchLength " + std::to_string(h.batch_length) +
                            " is below the header size; stopping this segment");
      return std::nullopt;
    }
    if (h.size_bytes() > remaining) {
      damage(path, pos, "truncated batch: needs " + std::to_string(h.size_bytes()) +
                            " bytes, " + std::to_string(remaining) +
                            " present; stopping this segment");
      return std::nullopt;
    }
    return h.size_bytes();
  }

  void dump_batch(const std::string& path, byte_view batch, size_t pos) {
    format::batch_header h = format::read_header(batch);
    uint32_t crc = format::compute_batch_crc(batch);
    bool crc_ok = crc == h.crc;
    if (!crc_ok) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "CRC mismatch (stored %08x, computed %08x)", h.crc, crc);
      damage(path, pos, std::string(buf) + " in batch " + range(h) + "; continuing");
    } else {
      // Framing and CRC hold, but other header fields may still be invalid.
      // The dump is not the place to enforce size limits, hence the huge cap.
      format::validation_limits limits{.max_batch_bytes = SIZE_MAX};
      auto valid = format::validate_batch(batch, limits, format::validation_depth::header_and_crc);
      if (!valid.ok()) damage(path, pos, "invalid batch " + range(h) + ": " + valid.status().message());
    }

    std::optional<std::vector<format::record_view>> records;
    if (options_.records && crc_ok) {
      auto decoded = format::decode_records(batch, scratch_);
      if (decoded.ok()) {
        records = std::move(decoded).value();
      } else {
        damage(path, pos, "cannot decode records of batch " + range(h) + ": " +
                              decoded.status().message());
      }
    }
    if (options_.json) {
      print_json(h, crc_ok, records);
    } else {
      print_text(h, crc_ok, pos, records);
    }
  }

  void print_text(const format::batch_header& h, bool crc_ok, size_t pos,
                  const std::optional<std::vector<format::record_view>>& records) {
    std::fprintf(out_,
                 "batch base_offset=%" PRId64 " last_offset=%" PRId64 " count=%" PRId32
                 " max_timestamp=%" PRId64 " size_bytes=%zu position=%zu crc=%s",
                 h.base_offset, h.last_offset(), h.record_count, h.max_timestamp,
                 h.size_bytes(), pos, crc_ok ? "ok" : "BAD");
    if (h.codec() != format::compression::none) std::fprintf(out_, " codec=%s", codec_name(h.codec()));
    if (h.is_control()) std::fprintf(out_, " control");
    if (h.is_transactional()) std::fprintf(out_, " transactional");
    std::fputc('\n', out_);
    if (!options_.records) return;
    if (!records) {
      std::fprintf(out_, "  (records not shown: the batch is damaged)\n");
      return;
    }
    for (const format::record_view& r : *records) {
      std::string line = "  record offset=" + std::to_string(r.offset) +
                         " timestamp=" + std::to_string(r.timestamp) +
                         " key=" + tools::printable(r.key) + " value=" + tools::printable(r.value) +
                         " headers=[";
      for (size_t i = 0; i < r.headers.size(); ++i) {
        if (i > 0) line += ", ";
        line += tools::printable(as_bytes(r.headers[i].key)) + "=" +
                tools::printable(r.headers[i].value);
      }
      line += "]\n";
      std::fputs(line.c_str(), out_);
    }
  }

  void print_json(const format::batch_header& h, bool crc_ok,
                  const std::optional<std::vector<format::record_view>>& records) {
    std::string line = "{\"base_offset\":" + std::to_string(h.base_offset) +
                       ",\"last_offset\":" + std::to_string(h.last_offset()) +
                       ",\"count\":" + std::to_string(h.record_count) +
                       ",\"max_timestamp\":" + std::to_string(h.max_timestamp) +
                       ",\"size_bytes\":" + std::to_string(h.size_bytes()) +
                       ",\"crc_ok\":" + (crc_ok ? "true" : "false");
    if (options_.records) {
      // null, not [], when the records could not be read: an empty array
      // would claim the batch holds none.
      line += ",\"records\":";
      if (!records) {
        line += "null";
      } else {
        line += "[";
        for (size_t i = 0; i < records->size(); ++i) {
          const format::record_view& r = (*records)[i];
          if (i > 0) line += ",";
          line += "{\"offset\":" + std::to_string(r.offset) +
                  ",\"timestamp\":" + std::to_string(r.timestamp) +
                  ",\"key\":" + tools::json_base64_or_null(r.key) +
                  ",\"value\":" + tools::json_base64_or_null(r.value) + ",\"headers\":[";
          for (size_t j = 0; j < r.headers.size(); ++j) {
            if (j > 0) line += ",";
            line += "{\"key\":" + tools::json_string(r.headers[j].key) +
                    ",\"value\":" + tools::json_base64_or_null(r.headers[j].value) + "}";
          }
          line += "]}";
        }
        line += "]";
      }
    }
    line += "}\n";
    std::fputs(line.c_str(), out_);
  }

  static std::string range(const format::batch_header& h) {
    return std::to_string(h.base_offset) + ".." + std::to_string(h.last_offset());
  }

  void damage(const std::string& path, size_t pos, const std::string& what) {
    damage_ = true;
    std::fflush(out_);  // keep stdout and stderr in order when both are a terminal
    std::fprintf(err_, "%s: byte %zu: %s\n", path.c_str(), pos, what.c_str());
  }

  const dump_options& options_;
  std::FILE* out_;
  std::FILE* err_;
  byte_buffer scratch_;  // decompression buffer, reused across batches
  bool damage_ = false;
};

}  // namespace

int run_log_dump(const dump_options& options, std::FILE* out, std::FILE* err) {
  auto segments = list_segments(options.path);
  if (!segments.ok()) {
    std::fprintf(err, "kappactl log dump: %s\n", segments.status().message().c_str());
    return kExitError;
  }
  if (segments->empty()) {
    std::fprintf(err, "kappactl log dump: %s: no segment files (*.log)\n", options.path.c_str());
    return kExitOk;
  }
  segment_dumper dumper(options, out, err);
  for (const std::string& path : *segments) {
    Status s = dumper.dump_segment(path);
    if (!s.ok()) {
      std::fflush(out);
      std::fprintf(err, "kappactl log dump: %s\n", s.message().c_str());
      return kExitError;
    }
  }
  std::fflush(out);
  return dumper.damage_found() ? kExitTornTail : kExitOk;
}

}  // namespace kappa::kappactl
