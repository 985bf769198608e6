#include "storage/checkpoint.h"

#include "proto/format/endian.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::storage {
namespace {

constexpr uint16_t kVersion = 1;
constexpr size_t kPayloadBytes = 1 + 8 * 6;

}  // namespace

Status write_checkpoint(env& e, const std::string& dir, const checkpoint& cp) {
  KAPPA_ASSERT(cp.log_start_offset <= cp.log_end_offset);
  KAPPA_ASSERT(cp.recovery_point <= cp.log_end_offset);
  uint8_t buf[kPayloadBytes];
  buf[0] = cp.clean ? 1 : 0;
  format::store_be<int64_t>(buf + 1, cp.recovery_point);
  format::store_be<int64_t>(buf + 9, cp.log_start_offset);
  format::store_be<int64_t>(buf + 17, cp.log_end_offset);
  format::store_be<int64_t>(buf + 25, cp.active_base_offset);
  format::store_be<uint64_t>(buf + 33, cp.active_bytes);
  format::store_be<uint64_t>(buf + 41, cp.last_batch_position);
  return write_metadata_file(e, dir + "/" + kCheckpointFileName, kVersion, byte_view(buf, kPayloadBytes));
}

Result<checkpoint> read_checkpoint(env& e, const std::string& dir) {
  const std::string path = dir + "/" + kCheckpointFileName;
  KAPPA_ASSIGN_OR_RETURN(auto m, read_metadata_file(e, path));
  if (m.version != kVersion) {
    return error(errc::bad_checkpoint, path + ": unknown version " + std::to_string(m.version));
  }
  if (m.payload.size() != kPayloadBytes) {
    return error(errc::bad_checkpoint, path + ": payload of " + std::to_string(m.payload.size()) +
                                           " bytes where " + std::to_string(kPayloadBytes) + " were expected");
  }
  const uint8_t* p = m.payload.data();
  checkpoint cp;
  if (p[0] > 1) return error(errc::bad_checkpoint, path + ": bad clean flag");
  cp.clean = p[0] == 1;
  cp.recovery_point = format::load_be<int64_t>(p + 1);
  cp.log_start_offset = format::load_be<int64_t>(p + 9);
  cp.log_end_offset = format::load_be<int64_t>(p + 17);
  cp.active_base_offset = format::load_be<int64_t>(p + 25);
  cp.active_bytes = format::load_be<uint64_t>(p + 33);
  cp.last_batch_position = format::load_be<uint64_t>(p + 41);
  if (cp.recovery_point < 0 || cp.log_start_offset < 0 || cp.recovery_point > cp.log_end_offset ||
      cp.active_base_offset > cp.log_end_offset) {
    return error(errc::bad_checkpoint, path + ": offsets are inconsistent");
  }
  return cp;
}

}  // namespace kappa::storage
