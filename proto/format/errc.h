// Error codes of the record format module, registered as a
// std::error_category named "kappa.format".
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::format {

enum class errc {
  ok = 0,
  truncated_header = 1,           // fewer than 61 bytes where a batch header must be
  batch_length_too_small,         // batchLength below the header's own size
  batch_length_exceeds_buffer,    // batchLength claims more bytes than are present
  batch_too_large,                // batch larger than the configured maximum
  bad_magic,                      // magic byte is not 2
  crc_mismatch,                   // CRC32C over attributes..end does not match
  bad_record_count,               // recordCount negative, or not what the records hold
  bad_last_offset_delta,          // lastOffsetDelta disagrees with recordCount / records
  bad_timestamp,                  // maxTimestamp below baseTimestamp, or a record outside them
  bad_record,                     // a record's varints or lengths are malformed
  trailing_bytes,                 // bytes left over after the last record
  unsupported_compression,        // codec bits 5..7 (reserved) in attributes
  decompression_failed,           // the codec library rejected the payload
  decompressed_too_large,         // payload would inflate past the decompression cap
  bad_attributes,                 // reserved attribute bits set, or an invalid combination
  bad_producer_fields,            // producerId/epoch/baseSequence out of range
  bad_base_offset,                // baseOffset negative, or baseOffset + lastOffsetDelta overflows
};

const std::error_category& error_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), error_category()}; }
// A Status with code `e` and a message that says what is wrong.
inline Status error(errc e, std::string message) { return Status(make_error_code(e), std::move(message)); }

}  // namespace kappa::format

template <>
struct std::is_error_code_enum<kappa::format::errc> : std::true_type {};
