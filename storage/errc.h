// Error codes of the storage module, registered as a std::error_category
// named "kappa.storage". Operating-system failures keep their errno
// (std::generic_category) so callers can test e.g. std::errc::no_space_on_device.
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::storage {

enum class errc {
  ok = 0,
  corruption = 1,        // invalid bytes in the middle of a log (valid data after them)
  offset_out_of_range,   // Kafka OFFSET_OUT_OF_RANGE; the message gives the valid range
  log_failed,            // a failed fsync (or unrecoverable write) put the log in a failed state
  log_closed,            // the log (or manager) was closed
  invalid_batch,         // an appended batch failed validation (Kafka CORRUPT_MESSAGE)
  batch_too_large,       // an appended batch exceeds max_batch_bytes (Kafka MESSAGE_TOO_LARGE)
  bad_checkpoint,        // a metadata file is missing its header, truncated or fails its CRC
  not_found,             // no such partition / file
  already_exists,        // the partition (or file) exists already
  invalid_argument,      // a caller broke a documented precondition (e.g. not a batch boundary)
};

const std::error_category& error_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), error_category()}; }
// A Status with code `e` and a message that says what is wrong.
inline Status error(errc e, std::string message) { return Status(make_error_code(e), std::move(message)); }

}  // namespace kappa::storage

template <>
struct std::is_error_code_enum<kappa::storage::errc> : std::true_type {};
