#include "storage/metadata_file.h"

#include "proto/format/crc32c.h"
#include "proto/format/endian.h"
#include "storage/errc.h"

namespace kappa::storage {

using format::load_be;
using format::store_be;

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status write_metadata_file(env& e, const std::string& path, uint16_t version, byte_view payload) {
  KAPPA_ASSERT(payload.size() <= kMetadataPayloadBytesMax);
  byte_buffer buf(kMetadataHeaderBytes + payload.size());
  store_be<uint32_t>(buf.data(), kMetadataMagic);
  store_be<uint16_t>(buf.data() + 4, version);
  store_be<uint16_t>(buf.data() + 6, 0);
  store_be<uint32_t>(buf.data() + 8, static_cast<uint32_t>(payload.size()));
  store_be<uint32_t>(buf.data() + 12, format::crc32c(payload));
  std::copy(payload.begin(), payload.end(), buf.begin() + kMetadataHeaderBytes);
  // Assert what we write: the checksum must cover exactly these bytes.
  KAPPA_ASSERT(format::crc32c(byte_view(buf).subspan(kMetadataHeaderBytes)) ==
               load_be<uint32_t>(buf.data() + 12));

  const std::string tmp = path + ".tmp";
  {
    KAPPA_ASSIGN_OR_RETURN(auto f, e.open(tmp, open_mode::read_write));
    KAPPA_RETURN_IF_ERROR(f->truncate(0));
    KAPPA_RETURN_IF_ERROR(f->pwrite(0, buf));
    KAPPA_RETURN_IF_ERROR(f->sync());
  }
  KAPPA_RETURN_IF_ERROR(e.rename(tmp, path));
  return e.sync_dir(parent_dir(path));
}

Result<metadata_contents> read_metadata_file(env& e, const std::string& path) {
  if (!e.exists(path)) return error(errc::not_found, path + ": no such metadata file");
  KAPPA_ASSIGN_OR_RETURN(auto f, e.open(path, open_mode::read_only));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
  if (size < kMetadataHeaderBytes) {
    return error(errc::bad_checkpoint, path + ": " + std::to_string(size) +
                                           " bytes, shorter than the 16-byte metadata header");
  }
  if (size > kMetadataHeaderBytes + kMetadataPayloadBytesMax) {
    return error(errc::bad_checkpoint, path + ": " + std::to_string(size) +
                                           " bytes, larger than any metadata file");
  }
  byte_buffer buf(size);
  KAPPA_ASSIGN_OR_RETURN(size_t got, f->pread(0, buf));
  if (got != size) return error(errc::bad_checkpoint, path + ": short read");
  uint32_t magic = load_be<uint32_t>(buf.data());
  if (magic != kMetadataMagic) return error(errc::bad_checkpoint, path + ": bad magic (not a metadata file)");
  metadata_contents out;
  out.version = load_be<uint16_t>(buf.data() + 4);
  uint32_t length = load_be<uint32_t>(buf.data() + 8);
  uint32_t crc = load_be<uint32_t>(buf.data() + 12);
  if (length != size - kMetadataHeaderBytes) {
    return error(errc::bad_checkpoint, path + ": header says " + std::to_string(length) +
                                           " payload bytes but the file holds " +
                                           std::to_string(size - kMetadataHeaderBytes));
  }
  byte_view payload = byte_view(buf).subspan(kMetadataHeaderBytes);
  if (format::crc32c(payload) != crc) return error(errc::bad_checkpoint, path + ": payload CRC32C mismatch");
  out.payload.assign(payload.begin(), payload.end());
  return out;
}

}  // namespace kappa::storage
