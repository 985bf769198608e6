// What the consumer returns from fetched bytes: control batches and records
// below the position are skipped, damage is reported.
#include <catch2/catch.hpp>

#include "client/src/fetch_decode.h"
#include "proto/format/records.h"

namespace {

std::string batch(int64_t base_offset, int count, bool control = false, int64_t ts = 1000) {
  kappa::format::batch_options options;
  options.base_offset = base_offset;
  options.control = control;
  std::vector<kappa::format::record> records;
  for (int i = 0; i < count; ++i) {
    kappa::format::record r;
    r.key = "k" + std::to_string(base_offset + i);
    r.value = "v" + std::to_string(base_offset + i);
    r.headers.push_back({"h", std::string("x")});
    r.timestamp = ts + i;
    records.push_back(std::move(r));
  }
  auto built = kappa::format::build_batch(options, records);
  REQUIRE(built.ok());
  return std::string(kappa::as_chars(*built));
}

}  // namespace

TEST_CASE("control batches and records below the position are skipped", "[client][consumer]") {
  // offsets 0..4 data, 5 control, 6..9 data
  const std::string bytes = batch(0, 5) + batch(5, 1, true) + batch(6, 4);
  std::vector<kappa::consumed_record> out;
  auto chunk = kappa::client::decode_fetched(bytes, "t", 3, 2, true, out);
  REQUIRE(chunk.ok());
  std::vector<int64_t> offsets;
  for (const auto& r : out) offsets.push_back(r.offset);
  CHECK(offsets == std::vector<int64_t>{2, 3, 4, 6, 7, 8, 9});
  CHECK(chunk->next_offset == 10);
  CHECK(chunk->control_batches_skipped == 1);
  CHECK(chunk->records_below_position_skipped == 2);
  CHECK(out[0].topic == "t");
  CHECK(out[0].partition == 3);
  CHECK(out[0].key == "k2");
  CHECK(out[0].value == "v2");
  CHECK(out[0].timestamp_ms == 1002);
  REQUIRE(out[0].headers.size() == 1);
  CHECK(out[0].headers[0].key == "h");
  CHECK(kappa::client::next_fetch_offset(bytes, 0) == 10);
}

TEST_CASE("a control batch at the end still moves the position past it", "[client][consumer]") {
  const std::string bytes = batch(0, 2) + batch(2, 1, true);
  std::vector<kappa::consumed_record> out;
  auto chunk = kappa::client::decode_fetched(bytes, "t", 0, 0, true, out);
  REQUIRE(chunk.ok());
  CHECK(out.size() == 2);
  CHECK(chunk->next_offset == 3);
}

TEST_CASE("a trailing partial batch is left for the next fetch", "[client][consumer]") {
  const std::string whole = batch(0, 3);
  const std::string next = batch(3, 3);
  const std::string bytes = whole + next.substr(0, next.size() / 2);
  std::vector<kappa::consumed_record> out;
  auto chunk = kappa::client::decode_fetched(bytes, "t", 0, 0, true, out);
  REQUIRE(chunk.ok());
  CHECK(out.size() == 3);
  CHECK(chunk->next_offset == 3);
  CHECK(kappa::client::next_fetch_offset(bytes, 0) == 3);
}

TEST_CASE("a flipped bit is a corrupt_message error", "[client][consumer]") {
  std::string bytes = batch(0, 3);
  bytes[bytes.size() - 2] ^= 0x10;
  std::vector<kappa::consumed_record> out;
  auto chunk = kappa::client::decode_fetched(bytes, "t", 0, 0, true, out);
  REQUIRE_FALSE(chunk.ok());
  CHECK(chunk.status().code() == kappa::client_errc::corrupt_message);
}
