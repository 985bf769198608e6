// The "kappa.format" error category: one message per errc, so a bare
// error_code printed in a log still says which check failed.
#include "proto/format/errc.h"

namespace kappa::format {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.format"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "ok";
      case errc::truncated_header:
        return "truncated batch header";
      case errc::batch_length_too_small:
        return "batchLength smaller than the batch header";
      case errc::batch_length_exceeds_buffer:
        return "batchLength exceeds the bytes present";
      case errc::batch_too_large:
        return "batch larger than the configured maximum";
      case errc::bad_magic:
        return "unsupported magic (not 2)";
      case errc::crc_mismatch:
        return "batch CRC32C mismatch";
      case errc::bad_record_count:
        return "bad recordCount";
      case errc::bad_last_offset_delta:
        return "bad lastOffsetDelta";
      case errc::bad_timestamp:
        return "bad timestamp";
      case errc::bad_record:
        return "malformed record";
      case errc::trailing_bytes:
        return "trailing bytes after the last record";
      case errc::unsupported_compression:
        return "unsupported compression codec";
      case errc::decompression_failed:
        return "decompression failed";
      case errc::decompressed_too_large:
        return "decompressed payload exceeds the cap";
      case errc::bad_attributes:
        return "bad batch attributes";
      case errc::bad_producer_fields:
        return "bad producerId/producerEpoch/baseSequence";
      case errc::bad_base_offset:
        return "bad baseOffset";
    }
    return "unknown kappa.format error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category instance;
  return instance;
}

}  // namespace kappa::format
