// Small metadata files (checkpoints, later raft state) written atomically and
// checksummed, as DESIGN.md "Storage" requires of every file the broker writes.
//
// Format (integers big-endian):
//   file   := magic:uint32(="KPMF") version:uint16 reserved:uint16(=0)
//             length:uint32 crc:uint32 payload{length}
// crc is the CRC32C of the payload. The header makes a torn, truncated or
// foreign file detectable; the payload format belongs to the caller, which
// versions it with `version`.
//
// Atomicity: the file is written to `<path>.tmp`, synced, renamed over
// `path`, and the directory is synced, so a crash leaves either the old or
// the new content, never a mix.
#pragma once

#include <cstdint>
#include <string>

#include "proto/format/bytes.h"
#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::storage {

inline constexpr uint32_t kMetadataMagic = 0x4B504D46;  // "KPMF"
inline constexpr size_t kMetadataHeaderBytes = 16;
// Metadata files are small; a larger length field means damage, not data.
inline constexpr size_t kMetadataPayloadBytesMax = size_t{1} << 20;

// Durably replaces `path` with a file holding `payload`.
// REQUIRES: payload.size() <= kMetadataPayloadBytesMax; the parent directory exists.
Status write_metadata_file(env& e, const std::string& path, uint16_t version, byte_view payload);

struct metadata_contents {
  uint16_t version = 0;
  byte_buffer payload;
};

// Reads and verifies `path`. Errors: errc::not_found when the file does not
// exist; errc::bad_checkpoint (the message says what is wrong) when the
// header, length or CRC do not hold; OS errors as they come.
Result<metadata_contents> read_metadata_file(env& e, const std::string& path);

// The directory part of `path` ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace kappa::storage
