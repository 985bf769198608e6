#include <catch2/catch.hpp>

#include "format_test_util.h"
#include "proto/format/crc32c.h"

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

TEST_CASE("HeaderRoundTripsEveryField") {
  batch_header h;
  h.base_offset = 0x0102030405060708;
  h.batch_length = 0x11121314;
  h.partition_leader_epoch = -7;
  h.magic = 2;
  h.crc = 0xDEADBEEF;
  h.attributes = 0x0034;
  h.last_offset_delta = 99;
  h.base_timestamp = -1;
  h.max_timestamp = INT64_MAX;
  h.producer_id = INT64_MIN;
  h.producer_epoch = -32768;
  h.base_sequence = INT32_MAX;
  h.record_count = 100;
  byte_buffer buf(kBatchHeaderBytes);
  write_header(h, buf);
  // Big-endian: the first field's bytes appear most significant first.
  CHECK(buf[0] == 0x01);
  CHECK(buf[7] == 0x08);
  CHECK(buf[pos::crc] == 0xDE);
  const batch_header r = read_header(buf);
  CHECK(r.base_offset == h.base_offset);
  CHECK(r.batch_length == h.batch_length);
  CHECK(r.partition_leader_epoch == h.partition_leader_epoch);
  CHECK(r.magic == h.magic);
  CHECK(r.crc == h.crc);
  CHECK(r.attributes == h.attributes);
  CHECK(r.last_offset_delta == h.last_offset_delta);
  CHECK(r.base_timestamp == h.base_timestamp);
  CHECK(r.max_timestamp == h.max_timestamp);
  CHECK(r.producer_id == h.producer_id);
  CHECK(r.producer_epoch == h.producer_epoch);
  CHECK(r.base_sequence == h.base_sequence);
  CHECK(r.record_count == h.record_count);
  CHECK(r.size_bytes() == 12 + size_t{0x11121314});
}

TEST_CASE("BatchCrcCoversAttributesToEnd") {
  byte_buffer b = sample_batch();
  const batch_header h = read_header(b);
  CHECK(h.crc == compute_batch_crc(b));
  CHECK(h.crc == crc32c(byte_view(b).subspan(pos::attributes)));
  b.back() ^= 1;
  CHECK(h.crc != compute_batch_crc(b));
}

TEST_CASE("StampBatchKeepsCrcValid") {
  byte_buffer b = sample_batch();
  const uint32_t before = read_header(b).crc;
  stamp_batch(b, 123456789012, 42);
  const batch_header h = read_header(b);
  CHECK(h.base_offset == 123456789012);
  CHECK(h.partition_leader_epoch == 42);
  CHECK(h.crc == before);
  CHECK(compute_batch_crc(b) == before);
  auto v = validate_batch(b, {}, validation_depth::records);
  REQUIRE(v.ok());
  CHECK(v->last_offset() == 123456789012 + 2);
}

TEST_CASE("ErrorCategoryNamesEveryCode") {
  CHECK(std::string(error_category().name()) == "kappa.format");
  std::error_code ec = errc::crc_mismatch;
  CHECK(ec.category() == error_category());
  CHECK(ec.message() == "batch CRC32C mismatch");
  for (int i = 1; i <= static_cast<int>(errc::bad_base_offset); ++i) {
    CHECK(make_error_code(static_cast<errc>(i)).message().find("unknown") == std::string::npos);
  }
}
