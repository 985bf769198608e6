#include <catch2/catch.hpp>

#include <functional>

#include "format_test_util.h"

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

namespace {

const validation_depth kBoth[] = {validation_depth::header_and_crc, validation_depth::records};

Status validate(const byte_buffer& b, validation_depth d, validation_limits limits = {}) {
  return validate_batch(b, limits, d).status();
}

}  // namespace

TEST_CASE("ValidBatchPassesAtBothDepths") {
  for (auto codec : {compression::none, compression::gzip, compression::snappy, compression::lz4,
                     compression::zstd}) {
    batch_options o;
    o.codec = codec;
    const byte_buffer b = sample_batch(o);
    for (auto d : kBoth) {
      auto r = validate_batch(b, {}, d);
      INFO(codec_name(codec) << " " << r.status().to_string());
      REQUIRE(r.ok());
      CHECK(r->record_count == 3);
      CHECK(r->size_bytes() == b.size());
    }
  }
}

// One row per header check: a single mutation and the errc it must produce.
struct header_mutation {
  const char* name;
  std::function<void(batch_header&)> mutate;
  errc expected;
  bool recrc = true;
};

TEST_CASE("EachMalformedHeaderFieldIsRejectedWithItsOwnErrc") {
  const std::vector<header_mutation> table = {
      {"batchLength below the header", [](batch_header& h) { h.batch_length = 48; },
       errc::batch_length_too_small},
      {"batchLength negative", [](batch_header& h) { h.batch_length = -1; },
       errc::batch_length_too_small},
      {"batchLength past the buffer", [](batch_header& h) { h.batch_length += 1; },
       errc::batch_length_exceeds_buffer},
      {"magic 1", [](batch_header& h) { h.magic = 1; }, errc::bad_magic},
      {"crc off by one", [](batch_header& h) { h.crc += 1; }, errc::crc_mismatch, false},
      {"codec 5", [](batch_header& h) { h.attributes |= 5; }, errc::unsupported_compression},
      {"codec 7", [](batch_header& h) { h.attributes |= 7; }, errc::unsupported_compression},
      {"reserved attribute bit 7", [](batch_header& h) { h.attributes |= 0x80; },
       errc::bad_attributes},
      {"reserved attribute bit 15", [](batch_header& h) { h.attributes |= int16_t(0x8000); },
       errc::bad_attributes},
      {"recordCount negative", [](batch_header& h) { h.record_count = -1; },
       errc::bad_record_count},
      {"recordCount beyond the payload", [](batch_header& h) { h.record_count = 1000000; },
       errc::bad_record_count},
      {"lastOffsetDelta negative", [](batch_header& h) { h.last_offset_delta = -1; },
       errc::bad_last_offset_delta},
      {"lastOffsetDelta below recordCount-1", [](batch_header& h) { h.last_offset_delta = 1; },
       errc::bad_last_offset_delta},
      {"baseOffset negative", [](batch_header& h) { h.base_offset = -5; }, errc::bad_base_offset},
      {"baseOffset + lastOffsetDelta overflows",
       [](batch_header& h) { h.base_offset = INT64_MAX - 1; }, errc::bad_base_offset},
      {"maxTimestamp below baseTimestamp",
       [](batch_header& h) { h.max_timestamp = h.base_timestamp - 1; }, errc::bad_timestamp},
      {"producerId below -1", [](batch_header& h) { h.producer_id = -2; },
       errc::bad_producer_fields},
      {"producerEpoch without producer", [](batch_header& h) { h.producer_epoch = 3; },
       errc::bad_producer_fields},
      {"baseSequence without producer", [](batch_header& h) { h.base_sequence = 0; },
       errc::bad_producer_fields},
      {"producer without epoch",
       [](batch_header& h) {
         h.producer_id = 9;
         h.base_sequence = 0;
       },
       errc::bad_producer_fields},
      {"producer without sequence",
       [](batch_header& h) {
         h.producer_id = 9;
         h.producer_epoch = 0;
       },
       errc::bad_producer_fields},
      {"transactional without producer",
       [](batch_header& h) { h.attributes |= attr::transactional; }, errc::bad_producer_fields},
  };
  for (const auto& row : table) {
    byte_buffer b = sample_batch();
    mutate_header(b, row.mutate, row.recrc);
    for (auto d : kBoth) {
      Status st = validate(b, d);
      INFO(row.name << ": " << st.to_string());
      REQUIRE_FALSE(st.ok());
      CHECK(st.code() == row.expected);
      CHECK(st.message().rfind("batch at byte 0: ", 0) == 0);
    }
  }
}

TEST_CASE("ErrorMessagesSayWhatIsWrongWithTheValues") {
  byte_buffer b = sample_batch();
  mutate_header(b, [](batch_header& h) { h.batch_length = 500; });
  Status st = validate(b, validation_depth::header_and_crc);
  CHECK(st.message() == "batch at byte 0: batchLength 500 exceeds the " +
                            std::to_string(b.size() - 12) + " bytes present");
  b = sample_batch();
  mutate_header(b, [](batch_header& h) { h.magic = 0; });
  CHECK(validate(b, validation_depth::header_and_crc).message() ==
        "batch at byte 0: magic 0, expected 2");
}

TEST_CASE("CrcMismatchIsRejected") {
  byte_buffer b = sample_batch();
  for (size_t i = pos::attributes; i < b.size(); i += 7) {
    byte_buffer damaged = b;
    damaged[i] ^= 0x10;
    Status st = validate(damaged, validation_depth::header_and_crc);
    INFO("flipped byte " << i << ": " << st.to_string());
    REQUIRE_FALSE(st.ok());
    // Flipping a byte of batchLength/magic trips those checks first.
    CHECK(st.code() == errc::crc_mismatch);
  }
}

TEST_CASE("BatchLargerThanTheLimitIsRejected") {
  const byte_buffer b = sample_batch();
  validation_limits limits;
  limits.max_batch_bytes = b.size() - 1;
  CHECK(validate(b, validation_depth::header_and_crc, limits).code() == errc::batch_too_large);
  limits.max_batch_bytes = b.size();
  CHECK(validate(b, validation_depth::header_and_crc, limits).ok());
}

TEST_CASE("TruncationAtEveryLengthIsRejected") {
  const byte_buffer b = sample_batch();
  for (size_t n = 0; n < b.size(); ++n) {
    byte_buffer cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    for (auto d : kBoth) {
      Status st = validate(cut, d);
      INFO("cut at " << n << ": " << st.to_string());
      REQUIRE_FALSE(st.ok());
      CHECK(st.code() ==
            (n < kBatchHeaderBytes ? errc::truncated_header : errc::batch_length_exceeds_buffer));
    }
  }
}

TEST_CASE("ValidateBatchesAcceptsConcatenatedBatches") {
  batch_options o;
  byte_buffer all;
  std::vector<size_t> sizes;
  for (auto codec : {compression::none, compression::zstd, compression::gzip}) {
    o.codec = codec;
    byte_buffer b = sample_batch(o);
    stamp_batch(b, o.base_offset, 1);
    o.base_offset += 3;
    sizes.push_back(b.size());
    all.insert(all.end(), b.begin(), b.end());
  }
  for (auto d : kBoth) {
    auto r = validate_batches(all, {}, d);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 3);
    CHECK((*r)[2].base_offset == 6);
    CHECK((*r)[1].size_bytes() == sizes[1]);
  }
  // validate_batch looks only at the first batch.
  auto first = validate_batch(all, {}, validation_depth::records);
  REQUIRE(first.ok());
  CHECK(first->size_bytes() == sizes[0]);
}

TEST_CASE("ValidateBatchesRejectsTrailingGarbage") {
  byte_buffer all = sample_batch();
  const size_t first = all.size();
  byte_buffer second = sample_batch();
  all.insert(all.end(), second.begin(), second.end());
  all.insert(all.end(), {1, 2, 3, 4, 5});
  Status st = validate_batches(all, {}, validation_depth::header_and_crc).status();
  CHECK(st.code() == errc::truncated_header);
  CHECK(st.message().rfind("batch at byte " + std::to_string(2 * first) + ": ", 0) == 0);

  // Damage in the second batch names its position.
  byte_buffer two = sample_batch();
  two.insert(two.end(), second.begin(), second.end());
  two.back() ^= 1;
  st = validate_batches(two, {}, validation_depth::header_and_crc).status();
  CHECK(st.code() == errc::crc_mismatch);
  CHECK(st.message().rfind("batch at byte " + std::to_string(first) + ": ", 0) == 0);

  CHECK(validate_batches(byte_buffer{}, {}, validation_depth::header_and_crc).status().code() ==
        errc::truncated_header);
}
