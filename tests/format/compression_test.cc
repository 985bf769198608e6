#include <catch2/catch.hpp>

#include <chrono>
#include <random>

#include "format_test_util.h"
#include "proto/format/compression.h"
#include "proto/format/endian.h"

using namespace kappa;
using namespace kappa::format;

namespace {

const compression kCodecs[] = {compression::none, compression::gzip, compression::snappy,
                               compression::lz4, compression::zstd};
const compression kCompressing[] = {compression::gzip, compression::snappy, compression::lz4,
                                    compression::zstd};

byte_buffer mixed_payload(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  byte_buffer b(n);
  // Half random, half repetitive, so every codec has something to do.
  for (size_t i = 0; i < n; ++i)
    b[i] = (i / 1000) % 2 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(i % 17);
  return b;
}

}  // namespace

TEST_CASE("EveryCodecRoundTrips") {
  for (auto codec : kCodecs) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{32 * 1024}, size_t{32 * 1024 + 1},
                     size_t{200 * 1000}}) {
      INFO(codec_name(codec) << " " << n << " bytes");
      const byte_buffer in = mixed_payload(n, static_cast<uint32_t>(n));
      auto c = compress(codec, in);
      REQUIRE(c.ok());
      auto d = decompress(codec, *c, n);  // a cap of exactly the size fits
      INFO(d.status().to_string());
      REQUIRE(d.ok());
      CHECK(*d == in);
      if (n > 0) {
        CHECK(decompress(codec, *c, n - 1).status().code() == errc::decompressed_too_large);
      }
    }
  }
}

TEST_CASE("SnappyWritesXerialFramingAndReadsRawBlocks") {
  const byte_buffer in = mixed_payload(70000, 3);
  auto c = compress(compression::snappy, in);
  REQUIRE(c.ok());
  const byte_buffer magic{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  REQUIRE(c->size() > magic.size());
  CHECK(std::equal(magic.begin(), magic.end(), c->begin()));
  // 70000 bytes in 32 KiB blocks: three blocks.
  size_t blocks = 0;
  for (size_t at = 16; at < c->size(); ++blocks)
    at += 4 + static_cast<size_t>(load_be<int32_t>(c->data() + at));
  CHECK(blocks == 3);

  // A raw snappy block (no xerial header): the first block alone.
  const size_t len = static_cast<size_t>(load_be<int32_t>(c->data() + 16));
  auto raw = decompress(compression::snappy, byte_view(*c).subspan(20, len), 1 << 20);
  REQUIRE(raw.ok());
  CHECK(std::equal(raw->begin(), raw->end(), in.begin(), in.begin() + 32 * 1024));
}

TEST_CASE("GzipConcatenatedMembersDecode") {
  const byte_buffer a = mixed_payload(5000, 1), b = mixed_payload(7000, 2);
  byte_buffer both = *compress(compression::gzip, a);
  const byte_buffer second = *compress(compression::gzip, b);
  both.insert(both.end(), second.begin(), second.end());
  auto d = decompress(compression::gzip, both, 1 << 20);
  REQUIRE(d.ok());
  byte_buffer want = a;
  want.insert(want.end(), b.begin(), b.end());
  CHECK(*d == want);
}

TEST_CASE("CorruptOrTruncatedCompressedPayloadFails") {
  const byte_buffer in = mixed_payload(50000, 9);
  for (auto codec : kCompressing) {
    const byte_buffer c = *compress(codec, in);
    for (size_t cut : {size_t{0}, size_t{1}, c.size() / 2, c.size() - 1}) {
      auto d = decompress(codec, byte_view(c).first(cut), 1 << 20);
      INFO(codec_name(codec) << " cut at " << cut << ": " << d.status().to_string());
      // Even an empty input fails: every format needs at least a header
      // (a raw snappy block its length preamble).
      REQUIRE_FALSE(d.ok());
      CHECK(d.status().code() == errc::decompression_failed);
      CHECK(d.status().message().rfind(std::string(codec_name(codec)) + ": ", 0) == 0);
    }
    byte_buffer damaged = c;
    for (size_t i = damaged.size() / 3; i < damaged.size() / 3 + 8; ++i) damaged[i] ^= 0x5A;
    auto d = decompress(codec, damaged, 1 << 20);
    INFO(codec_name(codec) << " damaged: " << d.status().to_string());
    // lz4 frames without checksums and raw snappy may decode damage to
    // other bytes; what must not happen is a crash, or damage passing as
    // the original.
    if (d.ok()) CHECK(*d != in);
  }
  auto garbage = decompress(compression::zstd, byte_buffer{1, 2, 3, 4, 5, 6, 7, 8}, 1 << 20);
  CHECK(garbage.status().code() == errc::decompression_failed);
  CHECK(garbage.status().message().find("zstd: ") == 0);
}

// 100 MiB of zeros compressed by each codec must be refused under a 1 MiB cap
// quickly, with the output never grown past the cap.
TEST_CASE("DecompressionBombIsRejectedUnderTheCap") {
  const size_t bomb_bytes = size_t{100} << 20;
  const size_t cap = size_t{1} << 20;
  const byte_buffer zeros(bomb_bytes, 0);
  for (auto codec : kCompressing) {
    const byte_buffer c = *compress(codec, zeros);
    INFO(codec_name(codec) << ": " << c.size() << " compressed bytes");
    CHECK(c.size() < bomb_bytes / 20);
    byte_buffer out;
    const auto start = std::chrono::steady_clock::now();
    Status st = decompress_into(codec, c, cap, out);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    INFO(st.to_string());
    CHECK(st.code() == errc::decompressed_too_large);
    CHECK(out.capacity() <= cap);
    CHECK(ms < 2000);  // stops at the cap instead of inflating 100 MiB
  }
}

TEST_CASE("DeclaredSizesAreNotTrusted") {
  // A raw snappy block whose preamble claims 4 GiB - 1 but holds nothing:
  // refused before any allocation.
  byte_buffer lie{0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  byte_buffer out;
  CHECK(decompress_into(compression::snappy, lie, 1 << 20, out).code() ==
        errc::decompressed_too_large);
  CHECK(out.capacity() <= (1u << 20));
  // Claiming less than the cap but more than it holds: a library error.
  byte_buffer small_lie{0x80, 0x08};  // 1024 bytes, no data
  CHECK(decompress(compression::snappy, small_lie, 1 << 20).status().code() ==
        errc::decompression_failed);

  // A xerial block length past the end of the input.
  byte_buffer framed = *compress(compression::snappy, mixed_payload(100, 5));
  store_be<int32_t>(framed.data() + 16, 100000);
  auto d = decompress(compression::snappy, framed, 1 << 20);
  CHECK(d.status().code() == errc::decompression_failed);
  CHECK(d.status().message().find("exceeds") != std::string::npos);
}

TEST_CASE("NoneCodecIsCappedToo") {
  const byte_buffer in(100, 7);
  CHECK(decompress(compression::none, in, 99).status().code() == errc::decompressed_too_large);
  CHECK(*decompress(compression::none, in, 100) == in);
  CHECK(decompress(static_cast<compression>(6), in, 100).status().code() ==
        errc::unsupported_compression);
}
