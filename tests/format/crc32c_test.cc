#include <catch2/catch.hpp>

#include <random>

#include "proto/format/crc32c.h"

using namespace kappa;
using namespace kappa::format;

TEST_CASE("Crc32cGivesTheStandardCheckValue") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c(byte_view{}) == 0u);
  // RFC 3720 B.4: 32 bytes of zeros.
  byte_buffer zeros(32, 0);
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  byte_buffer ones(32, 0xFF);
  CHECK(crc32c(ones) == 0x62A8AB43u);
}

TEST_CASE("Crc32cExtendEqualsOneShotAtEverySplit") {
  std::mt19937 rng(7);
  byte_buffer data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const uint32_t whole = crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    byte_view all(data);
    CHECK(crc32c_extend(crc32c(all.first(split)), all.subspan(split)) == whole);
  }
}
