// Payload compression for RecordBatch v2, byte-compatible with Kafka:
//
//   gzip    RFC 1952 gzip members (zlib, default level 6 as Java's
//           GZIPOutputStream). Decoding accepts concatenated members.
//   snappy  xerial framing as snappy-java's SnappyOutputStream (and so Kafka)
//           writes it: magic 82 53 4E 41 50 50 59 00, int32 version = 1,
//           int32 compatible = 1, then blocks of [int32 BE compressed length]
//           [raw snappy block], each block compressing at most 32 KiB of input.
//           Decoding also accepts a single raw snappy block (no magic).
//   lz4     the LZ4 frame format (lz4frame.h); written as Kafka's
//           KafkaLZ4BlockOutputStream does: 64 KiB independent blocks, no
//           checksums, no content size. Decoding accepts any valid frame(s).
//   zstd    zstd frame(s), written at level 3 (zstd's and Kafka's default).
//
// Decompression is capped while it streams: input that would inflate past
// max_bytes fails with errc::decompressed_too_large, and the output buffer
// never grows past max_bytes, whatever size the payload declares. A payload
// the library rejects (corrupt, truncated) fails with
// errc::decompression_failed and the library's message. The zstd decoder
// also refuses windows larger than max(8 MiB, max_bytes) (at most 128 MiB),
// which bounds its internal buffers.
#pragma once

#include <cstddef>

#include "proto/format/bytes.h"
#include "proto/format/record_batch.h"
#include "proto/format/result.h"

namespace kappa::format {

// "none", "gzip", "snappy", "lz4", "zstd", or "reserved(N)".
const char* codec_name(compression codec);

// Compresses `input` as a whole. compression::none returns a copy. Inputs
// over 2 GiB (no batch holds that much) fail with errc::batch_too_large.
// REQUIRES: codec is one of the five defined values.
Result<byte_buffer> compress(compression codec, byte_view input);

// Decompresses `input` into `out` (replacing its contents; its capacity is
// reused). On failure `out` holds unspecified bytes, never more than
// max_bytes of them.
Status decompress_into(compression codec, byte_view input, size_t max_bytes, byte_buffer& out);

inline Result<byte_buffer> decompress(compression codec, byte_view input, size_t max_bytes) {
  byte_buffer out;
  KAPPA_RETURN_IF_ERROR(decompress_into(codec, input, max_bytes, out));
  return out;
}

}  // namespace kappa::format
