// Codec implementations. Every streaming decoder is driven by
// decode_capped(), which owns the one rule that matters for untrusted input:
// the output buffer grows geometrically but never past max_bytes, and once
// it is full the decoder is asked for one more byte into a probe; if it has
// one, the payload is too large. Declared content sizes are never used to
// size anything.
#include "proto/format/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include "proto/format/endian.h"
#include "proto/format/errc.h"

namespace kappa::format {
namespace {

constexpr size_t kMinOutputBytes = 4096;

Status failed(compression codec, const std::string& what) {
  return error(errc::decompression_failed, std::string(codec_name(codec)) + ": " + what);
}

Status too_large(compression codec, size_t max_bytes) {
  return error(errc::decompressed_too_large, std::string(codec_name(codec)) +
                                                 " payload inflates past the cap of " +
                                                 std::to_string(max_bytes) + " bytes");
}

// Resizes `out` to n bytes with capacity growing geometrically but never
// past max_bytes (vector's own resize() may double past it).
// REQUIRES: n <= max_bytes.
void resize_capped(byte_buffer& out, size_t n, size_t max_bytes) {
  KAPPA_ASSERT(n <= max_bytes);
  if (n > out.capacity()) {
    const size_t doubled = out.capacity() > max_bytes / 2 ? max_bytes : 2 * out.capacity();
    byte_buffer grown;
    grown.reserve(std::max(n, doubled));
    grown.assign(out.begin(), out.end());
    out.swap(grown);
  }
  out.resize(n);
}

// One call of a streaming decoder: write at most `room` (> 0) bytes at `dst`,
// set `written`, and set `finished` once all input is decoded and flushed.
// A step that can make no progress (input exhausted mid-stream) must fail.
template <typename Step>
Status decode_capped(compression codec, size_t input_bytes, size_t max_bytes, byte_buffer& out,
                     Step&& step) {
  size_t produced = 0;
  // Compressed record payloads typically shrink 2-10x; start near that.
  out.clear();
  resize_capped(out, std::min(max_bytes, std::max(kMinOutputBytes, input_bytes * 4)), max_bytes);
  for (;;) {
    size_t written = 0;
    bool finished = false;
    if (produced == out.size()) {
      if (out.size() < max_bytes) {
        resize_capped(
            out, out.size() > max_bytes / 2 ? max_bytes : std::max(kMinOutputBytes, out.size() * 2),
            max_bytes);
        continue;
      }
      uint8_t probe[1];
      KAPPA_RETURN_IF_ERROR(step(probe, sizeof probe, written, finished));
      if (written > 0) return too_large(codec, max_bytes);
    } else {
      KAPPA_RETURN_IF_ERROR(step(out.data() + produced, out.size() - produced, written, finished));
      produced += written;
    }
    if (finished) break;
  }
  out.resize(produced);
  return Status();
}

// ---- gzip ----------------------------------------------------------------

Result<byte_buffer> gzip_compress(byte_view input) {
  z_stream zs{};
  // 16 + MAX_WBITS: a gzip wrapper instead of a zlib one.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return error(errc::decompression_failed, "gzip: deflateInit2 failed");
  }
  // OS 255 ("unknown") and mtime 0, as Java's GZIPOutputStream (JDK 16+)
  // writes them, so the header does not depend on the build machine.
  gz_header header{};
  header.os = 255;
  deflateSetHeader(&zs, &header);
  byte_buffer out(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  KAPPA_ASSERT(rc == Z_STREAM_END);  // deflateBound guarantees room
  return out;
}

Status gzip_decompress(byte_view input, size_t max_bytes, byte_buffer& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return failed(compression::gzip, "inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  return decode_capped(
      compression::gzip, input.size(), max_bytes, out,
      [&](uint8_t* dst, size_t room, size_t& written, bool& finished) -> Status {
        zs.next_out = dst;
        room = std::min<size_t>(room, UINT_MAX);  // zlib counts in uInt
        zs.avail_out = static_cast<uInt>(room);
        int rc = inflate(&zs, Z_NO_FLUSH);
        written = room - zs.avail_out;
        if (rc == Z_STREAM_END) {
          if (zs.avail_in == 0) {
            finished = true;
          } else if (inflateReset(&zs) != Z_OK) {  // another gzip member follows
            return failed(compression::gzip, "inflateReset failed");
          }
          return Status();
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
          return failed(compression::gzip,
                        zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc));
        }
        if (zs.avail_in == 0 && zs.avail_out > 0) {
          return failed(compression::gzip, "input ends before the end of the gzip stream");
        }
        return Status();
      });
}

// ---- snappy (xerial framing, or one raw block) ---------------------------

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderBytes = 16;
constexpr size_t kXerialBlockBytes = 32 * 1024;  // snappy-java's default

Result<byte_buffer> snappy_compress(byte_view input) {
  byte_buffer out(kXerialHeaderBytes);
  std::copy(std::begin(kXerialMagic), std::end(kXerialMagic), out.begin());
  store_be<int32_t>(out.data() + 8, 1);   // version
  store_be<int32_t>(out.data() + 12, 1);  // minimum compatible version
  for (size_t at = 0; at < input.size(); at += kXerialBlockBytes) {
    const size_t n = std::min(kXerialBlockBytes, input.size() - at);
    const size_t start = out.size();
    out.resize(start + 4 + snappy::MaxCompressedLength(n));
    size_t compressed = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(input.data() + at), n,
                        reinterpret_cast<char*>(out.data() + start + 4), &compressed);
    store_be<int32_t>(out.data() + start, static_cast<int32_t>(compressed));
    out.resize(start + 4 + compressed);
  }
  return out;
}

// Appends one raw snappy block to out[0, produced).
Status snappy_block(byte_view block, size_t max_bytes, byte_buffer& out, size_t& produced) {
  const char* src = reinterpret_cast<const char*>(block.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(src, block.size(), &n)) {
    return failed(compression::snappy, "corrupt block (bad length preamble)");
  }
  // The declared length only ever makes us refuse: RawUncompress fails
  // unless the block decodes to exactly n bytes.
  if (n > max_bytes - produced) return too_large(compression::snappy, max_bytes);
  resize_capped(out, produced + n, max_bytes);
  if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(out.data() + produced))) {
    return failed(compression::snappy, "corrupt block");
  }
  produced += n;
  return Status();
}

Status snappy_decompress(byte_view input, size_t max_bytes, byte_buffer& out) {
  out.clear();
  size_t produced = 0;
  if (input.size() < kXerialHeaderBytes ||
      !std::equal(std::begin(kXerialMagic), std::end(kXerialMagic), input.begin())) {
    return snappy_block(input, max_bytes, out, produced);
  }
  const int32_t version = load_be<int32_t>(input.data() + 8);
  if (version < 1) return failed(compression::snappy, "xerial version " + std::to_string(version));
  for (size_t at = kXerialHeaderBytes; at < input.size();) {
    if (input.size() - at < 4) {
      return failed(compression::snappy,
                    "xerial block length at byte " + std::to_string(at) + " is cut short");
    }
    const int32_t len = load_be<int32_t>(input.data() + at);
    at += 4;
    if (len < 0 || static_cast<size_t>(len) > input.size() - at) {
      return failed(compression::snappy, "xerial block length " + std::to_string(len) +
                                             " at byte " + std::to_string(at - 4) +
                                             " exceeds the " + std::to_string(input.size() - at) +
                                             " bytes left");
    }
    KAPPA_RETURN_IF_ERROR(
        snappy_block(input.subspan(at, static_cast<size_t>(len)), max_bytes, out, produced));
    at += static_cast<size_t>(len);
  }
  return Status();
}

// ---- lz4 frame -------------------------------------------------------------

Result<byte_buffer> lz4_compress(byte_view input) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = 0;
  byte_buffer out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) {
    return error(errc::decompression_failed, std::string("lz4: compress: ") + LZ4F_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Status lz4_decompress(byte_view input, size_t max_bytes, byte_buffer& out) {
  LZ4F_dctx* raw = nullptr;
  size_t rc = LZ4F_createDecompressionContext(&raw, LZ4F_VERSION);
  if (LZ4F_isError(rc)) return failed(compression::lz4, LZ4F_getErrorName(rc));
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> ctx(raw,
                                                                   LZ4F_freeDecompressionContext);
  const uint8_t* src = input.data();
  size_t left = input.size();
  return decode_capped(
      compression::lz4, input.size(), max_bytes, out,
      [&](uint8_t* dst, size_t room, size_t& written, bool& finished) -> Status {
        size_t dst_size = room;
        size_t src_size = left;
        size_t hint = LZ4F_decompress(ctx.get(), dst, &dst_size, src, &src_size, nullptr);
        if (LZ4F_isError(hint)) return failed(compression::lz4, LZ4F_getErrorName(hint));
        src += src_size;
        left -= src_size;
        written = dst_size;
        // hint == 0: a frame ended and is fully flushed; another may follow.
        if (hint == 0 && left == 0) {
          finished = true;
        } else if (left == 0 && dst_size < room) {
          return failed(compression::lz4, "input ends before the end of the frame");
        }
        return Status();
      });
}

// ---- zstd ------------------------------------------------------------------

Result<byte_buffer> zstd_compress(byte_view input) {
  byte_buffer out(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
  if (ZSTD_isError(n))
    return error(errc::decompression_failed,
                 std::string("zstd: compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Status zstd_decompress(byte_view input, size_t max_bytes, byte_buffer& out) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return failed(compression::zstd, "out of memory");
  // The window is a buffer zstd allocates itself; a frame may declare up to
  // 2 GiB. Allow what any Kafka client writes (levels <= 19 use <= 8 MiB),
  // more only when the cap itself is larger, and never over zstd's default.
  int window_log = 23;
  while (window_log < 27 && (size_t{1} << window_log) < max_bytes) ++window_log;
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, window_log);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  return decode_capped(compression::zstd, input.size(), max_bytes, out,
                       [&](uint8_t* dst, size_t room, size_t& written, bool& finished) -> Status {
                         ZSTD_outBuffer o{dst, room, 0};
                         size_t hint = ZSTD_decompressStream(ctx.get(), &o, &in);
                         if (ZSTD_isError(hint))
                           return failed(compression::zstd, ZSTD_getErrorName(hint));
                         written = o.pos;
                         // hint == 0: a frame ended and is fully flushed; another may follow.
                         if (hint == 0 && in.pos == in.size) {
                           finished = true;
                         } else if (in.pos == in.size && o.pos < o.size) {
                           return failed(compression::zstd,
                                         "input ends before the end of the frame");
                         }
                         return Status();
                       });
}

}  // namespace

const char* codec_name(compression codec) {
  switch (codec) {
    case compression::none:
      return "none";
    case compression::gzip:
      return "gzip";
    case compression::snappy:
      return "snappy";
    case compression::lz4:
      return "lz4";
    case compression::zstd:
      return "zstd";
  }
  switch (static_cast<int>(codec)) {
    case 5:
      return "reserved(5)";
    case 6:
      return "reserved(6)";
    case 7:
      return "reserved(7)";
  }
  return "reserved";
}

Result<byte_buffer> compress(compression codec, byte_view input) {
  // A batch never holds more than 2 GiB, and zlib counts in uInt.
  if (input.size() > INT32_MAX) {
    return error(errc::batch_too_large,
                 "cannot compress " + std::to_string(input.size()) + " bytes (over 2 GiB)");
  }
  switch (codec) {
    case compression::none:
      return byte_buffer(input.begin(), input.end());
    case compression::gzip:
      return gzip_compress(input);
    case compression::snappy:
      return snappy_compress(input);
    case compression::lz4:
      return lz4_compress(input);
    case compression::zstd:
      return zstd_compress(input);
  }
  KAPPA_ASSERT(false && "compress: undefined codec");
  return error(errc::unsupported_compression, "undefined codec");
}

Status decompress_into(compression codec, byte_view input, size_t max_bytes, byte_buffer& out) {
  // zlib counts in uInt; a batch never holds more than 2 GiB anyway.
  if (input.size() > INT32_MAX) {
    return failed(codec, "input of " + std::to_string(input.size()) + " bytes exceeds 2 GiB");
  }
  switch (codec) {
    case compression::none:
      if (input.size() > max_bytes) return too_large(codec, max_bytes);
      out.clear();
      resize_capped(out, input.size(), max_bytes);
      out.assign(input.begin(), input.end());
      return Status();
    case compression::gzip:
      return gzip_decompress(input, max_bytes, out);
    case compression::snappy:
      return snappy_decompress(input, max_bytes, out);
    case compression::lz4:
      return lz4_decompress(input, max_bytes, out);
    case compression::zstd:
      return zstd_decompress(input, max_bytes, out);
  }
  return error(errc::unsupported_compression,
               std::string("compression codec ") + codec_name(codec) + " is not defined");
}

}  // namespace kappa::format
