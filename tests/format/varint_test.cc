#include <catch2/catch.hpp>

#include <climits>
#include <random>

#include "proto/format/varint.h"

using namespace kappa;
using namespace kappa::format;

namespace {
int32_t round_trip32(int32_t v) {
  byte_buffer b;
  append_varint(b, v);
  REQUIRE(b.size() == varint_size(v));
  size_t pos = 0;
  auto r = read_varint(b, pos);
  REQUIRE(r.ok());
  REQUIRE(pos == b.size());
  return *r;
}
int64_t round_trip64(int64_t v) {
  byte_buffer b;
  append_varlong(b, v);
  REQUIRE(b.size() == varlong_size(v));
  size_t pos = 0;
  auto r = read_varlong(b, pos);
  REQUIRE(r.ok());
  REQUIRE(pos == b.size());
  return *r;
}
}  // namespace

TEST_CASE("VarintEncodesZigzagAsKafkaDoes") {
  // Values and encodings from Kafka's ByteUtilsTest.
  auto enc = [](int32_t v) {
    byte_buffer b;
    append_varint(b, v);
    return b;
  };
  CHECK(enc(0) == byte_buffer{0x00});
  CHECK(enc(-1) == byte_buffer{0x01});
  CHECK(enc(1) == byte_buffer{0x02});
  CHECK(enc(63) == byte_buffer{0x7E});
  CHECK(enc(-64) == byte_buffer{0x7F});
  CHECK(enc(64) == byte_buffer{0x80, 0x01});
  CHECK(enc(INT32_MAX) == byte_buffer{0xFE, 0xFF, 0xFF, 0xFF, 0x0F});
  CHECK(enc(INT32_MIN) == byte_buffer{0xFF, 0xFF, 0xFF, 0xFF, 0x0F});
  byte_buffer l;
  append_varlong(l, INT64_MIN);
  CHECK(l == byte_buffer{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
}

TEST_CASE("VarintRoundTripsEdgeValues") {
  for (int32_t v : {0, 1, -1, 63, -64, 64, -65, 8191, 8192, INT32_MAX, INT32_MIN, INT32_MAX - 1,
                    INT32_MIN + 1}) {
    CHECK(round_trip32(v) == v);
  }
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MAX, INT64_MIN, int64_t{INT32_MAX} + 1,
        int64_t{INT32_MIN} - 1, int64_t{1} << 62, -(int64_t{1} << 62)}) {
    CHECK(round_trip64(v) == v);
  }
  CHECK(varint_size(INT32_MIN) == kMaxVarintBytes);
  CHECK(varlong_size(INT64_MIN) == kMaxVarlongBytes);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    const auto v = static_cast<int64_t>(rng()) >> (rng() % 64);
    CHECK(round_trip64(v) == v);
    CHECK(round_trip32(static_cast<int32_t>(v)) == static_cast<int32_t>(v));
  }
}

TEST_CASE("VarintOverrunIsRejectedAtEveryCut") {
  byte_buffer b;
  append_varlong(b, INT64_MIN);
  for (size_t cut = 0; cut < b.size(); ++cut) {
    size_t pos = 0;
    auto r = read_varlong(byte_view(b).first(cut), pos);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == errc::bad_record);
    CHECK(pos == 0);
  }
  byte_buffer v;
  append_varint(v, INT32_MIN);
  for (size_t cut = 0; cut < v.size(); ++cut) {
    size_t pos = 0;
    CHECK_FALSE(read_varint(byte_view(v).first(cut), pos).ok());
  }
}

TEST_CASE("VarintLongerThanItsMaximumIsRejected") {
  size_t pos = 0;
  // Six bytes for a varint, eleven for a varlong.
  byte_buffer six{0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  auto r = read_varint(six, pos);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == errc::bad_record);
  CHECK(r.status().message().find("longer than 5") != std::string::npos);
  byte_buffer eleven(10, 0x80);
  eleven.push_back(0);
  pos = 0;
  CHECK_FALSE(read_varlong(eleven, pos).ok());
  // Bits above 32 (64) in the last allowed byte.
  pos = 0;
  CHECK_FALSE(read_varint(byte_buffer{0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, pos).ok());
  pos = 0;
  byte_buffer wide(9, 0xFF);
  wide.push_back(0x02);
  CHECK_FALSE(read_varlong(wide, pos).ok());
  // A non-canonical but in-range encoding (padding zeros) is accepted.
  pos = 0;
  auto padded = read_varint(byte_buffer{0x82, 0x80, 0x00}, pos);
  REQUIRE(padded.ok());
  CHECK(*padded == 1);
}

TEST_CASE("VarintDecodesAtAnOffsetAndAdvances") {
  byte_buffer b{0xAA};
  append_varint(b, 300);
  append_varlong(b, -5);
  size_t pos = 1;
  REQUIRE(*read_varint(b, pos) == 300);
  REQUIRE(*read_varlong(b, pos) == -5);
  CHECK(pos == b.size());
}
