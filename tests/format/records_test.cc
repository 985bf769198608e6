#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <random>

#include "format_test_util.h"
#include "proto/format/record_reader.h"
#include "proto/format/varint.h"

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

namespace {

const compression kCodecs[] = {compression::none, compression::gzip, compression::snappy,
                               compression::lz4, compression::zstd};

void check_same(const std::vector<record>& want, const std::vector<record_view>& got,
                int64_t base_offset) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("record " << i);
    CHECK(got[i].offset == base_offset + static_cast<int64_t>(i));
    CHECK(got[i].timestamp == want[i].timestamp);
    REQUIRE(got[i].key.has_value() == want[i].key.has_value());
    if (want[i].key) CHECK(str(got[i].key) == *want[i].key);
    REQUIRE(got[i].value.has_value() == want[i].value.has_value());
    if (want[i].value) CHECK(str(got[i].value) == *want[i].value);
    REQUIRE(got[i].headers.size() == want[i].headers.size());
    for (size_t h = 0; h < want[i].headers.size(); ++h) {
      CHECK(got[i].headers[h].key == want[i].headers[h].key);
      REQUIRE(got[i].headers[h].value.has_value() == want[i].headers[h].value.has_value());
      if (want[i].headers[h].value)
        CHECK(str(got[i].headers[h].value) == *want[i].headers[h].value);
    }
  }
}

std::string random_bytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  // Mostly compressible text, sometimes arbitrary bytes.
  const bool binary = rng() % 4 == 0;
  for (auto& c : s) c = binary ? static_cast<char>(rng()) : static_cast<char>('a' + rng() % 4);
  return s;
}

std::optional<std::string> maybe_null(std::mt19937_64& rng, size_t max_len) {
  if (rng() % 5 == 0) return std::nullopt;
  return random_bytes(rng, max_len);
}

}  // namespace

TEST_CASE("BuiltBatchHasKafkaHeaderFields") {
  batch_options o;
  o.base_offset = 500;
  o.partition_leader_epoch = 3;
  o.producer_id = 77;
  o.producer_epoch = 2;
  o.base_sequence = 10;
  o.transactional = true;
  o.codec = compression::lz4;
  const byte_buffer b = sample_batch(o);
  const batch_header h = read_header(b);
  CHECK(h.base_offset == 500);
  CHECK(h.batch_length == static_cast<int32_t>(b.size() - 12));
  CHECK(h.partition_leader_epoch == 3);
  CHECK(h.magic == 2);
  CHECK(h.crc == compute_batch_crc(b));
  CHECK(h.attributes == (3 | attr::transactional));
  CHECK(h.last_offset_delta == 2);
  CHECK(h.base_timestamp == 1700000000000);  // the first record's
  CHECK(h.max_timestamp == 1700000000005);   // the largest, from the middle record
  CHECK(h.producer_id == 77);
  CHECK(h.producer_epoch == 2);
  CHECK(h.base_sequence == 10);
  CHECK(h.record_count == 3);

  batch_options c;
  c.control = true;
  c.log_append_time = true;
  CHECK(read_header(sample_batch(c)).attributes == (attr::control | attr::log_append_time));
}

TEST_CASE("RecordsDecodeToWhatWasBuiltWithEveryCodec") {
  for (auto codec : kCodecs) {
    INFO(codec_name(codec));
    batch_options o;
    o.codec = codec;
    o.base_offset = 1000;
    const byte_buffer b = sample_batch(o);
    byte_buffer scratch;
    auto rs = decode_records(b, scratch);
    REQUIRE(rs.ok());
    check_same(sample_records(), *rs, 1000);
  }
}

TEST_CASE("RandomBatchesRoundTrip") {
  // KAPPA_TEST_SEED=<n> replays a run.
  const char* env_seed = std::getenv("KAPPA_TEST_SEED");
  const uint64_t seed =
      env_seed != nullptr ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  WARN("RandomBatchesRoundTrip seed " << seed);  // printed so a failure can be replayed
  for (int iteration = 0; iteration < 150; ++iteration) {
    INFO("iteration " << iteration);
    std::vector<record> rs(1 + rng() % 30);
    const int64_t t0 = static_cast<int64_t>(rng() % (int64_t{1} << 41));
    for (auto& r : rs) {
      r.key = maybe_null(rng, 20);
      r.value = maybe_null(rng, rng() % 10 == 0 ? 5000 : 100);
      r.timestamp = t0 + static_cast<int64_t>(rng() % 100000) - 50000;  // not ordered
      for (size_t h = rng() % 4; h > 0; --h)
        r.headers.push_back({random_bytes(rng, 8), maybe_null(rng, 16)});
    }
    batch_options o;
    o.codec = kCodecs[rng() % 5];
    o.base_offset = static_cast<int64_t>(rng() % 1000000);
    o.partition_leader_epoch = static_cast<int32_t>(rng() % 10) - 1;
    if (rng() % 2) {
      o.producer_id = static_cast<int64_t>(rng() % 100000);
      o.producer_epoch = static_cast<int16_t>(rng() % 100);
      o.base_sequence = static_cast<int32_t>(rng() % 100000);
      o.transactional = rng() % 2;
    }
    o.log_append_time = rng() % 4 == 0;
    INFO("codec " << codec_name(o.codec) << ", " << rs.size() << " records");
    auto b = build_batch(o, rs);
    REQUIRE(b.ok());
    auto h = validate_batch(*b, {}, validation_depth::records);
    INFO(h.status().to_string());
    REQUIRE(h.ok());
    CHECK(h->codec() == o.codec);
    CHECK(h->record_count == static_cast<int32_t>(rs.size()));
    byte_buffer scratch;
    auto decoded = decode_records(*b, scratch);
    REQUIRE(decoded.ok());
    check_same(rs, *decoded, o.base_offset);
  }
}

TEST_CASE("EmptyBatchAsCompactionLeavesItIsValid") {
  // Kafka's compaction may keep a batch with no records to preserve its
  // last offset and producer state: recordCount 0, no payload.
  byte_buffer b(kBatchHeaderBytes);
  batch_header h;
  h.batch_length = static_cast<int32_t>(kBatchHeaderBytes - kBatchLogOverheadBytes);
  h.last_offset_delta = 4;
  h.record_count = 0;
  write_header(h, b);
  recrc(b);
  for (auto d : {validation_depth::header_and_crc, validation_depth::records}) {
    CHECK(validate_batch(b, {}, d).ok());
  }
  byte_buffer scratch;
  auto rs = decode_records(b, scratch);
  REQUIRE(rs.ok());
  CHECK(rs->empty());
}

// Damage only the records depth can see: the header is consistent with
// itself and CRC'd, the records disagree with it.
TEST_CASE("RecordsThatDisagreeWithTheHeaderAreRejected") {
  struct row {
    const char* name;
    std::function<void(batch_header&)> mutate;
    errc expected;
  };
  const std::vector<row> table = {
      {"recordCount above the records",
       [](batch_header& h) {
         h.record_count = 4;
         h.last_offset_delta = 3;
       },
       errc::bad_record_count},
      {"recordCount below the records", [](batch_header& h) { h.record_count = 2; },
       errc::trailing_bytes},
      {"lastOffsetDelta past the last record", [](batch_header& h) { h.last_offset_delta = 5; },
       errc::bad_last_offset_delta},
      {"maxTimestamp above every record", [](batch_header& h) { h.max_timestamp += 1; },
       errc::bad_timestamp},
      {"maxTimestamp below a record", [](batch_header& h) { h.max_timestamp -= 1; },
       errc::bad_timestamp},
  };
  for (auto codec : kCodecs) {
    for (const auto& r : table) {
      batch_options o;
      o.codec = codec;
      byte_buffer b = sample_batch(o);
      mutate_header(b, r.mutate);
      INFO(codec_name(codec) << ", " << r.name);
      REQUIRE(validate_batch(b, {}, validation_depth::header_and_crc).ok());
      Status st = validate_batch(b, {}, validation_depth::records).status();
      INFO(st.to_string());
      CHECK(st.code() == r.expected);
    }
  }
  // LogAppendTime: the broker's time replaces the records', so they are not
  // checked against maxTimestamp.
  batch_options o;
  o.log_append_time = true;
  byte_buffer b = sample_batch(o);
  mutate_header(b, [](batch_header& h) { h.max_timestamp += 1000; });
  CHECK(validate_batch(b, {}, validation_depth::records).ok());
}

TEST_CASE("MalformedRecordBytesAreRejected") {
  const byte_buffer good = sample_batch();
  // The first record starts right after the header with its length varint.
  size_t p = kBatchHeaderBytes;
  const int32_t first_len = *read_varint(good, p);
  const size_t body = p;  // attributes, then timestampDelta varlong, offsetDelta varint ...

  // decode_records checks structure only; offset order is validation's job.
  auto check = [](byte_buffer b, errc want, const char* what, bool structural = true) {
    recrc(b);
    Status st = validate_batch(b, {}, validation_depth::records).status();
    INFO(what << ": " << st.to_string());
    CHECK(st.code() == want);
    byte_buffer scratch;
    if (structural) CHECK_FALSE(decode_records(b, scratch).ok());
  };
  {
    byte_buffer b = good;
    b[kBatchHeaderBytes] = static_cast<uint8_t>(zigzag_encode32(first_len + 100));
    check(b, errc::bad_record, "record length past the payload");
  }
  {
    byte_buffer b = good;
    b[kBatchHeaderBytes] = static_cast<uint8_t>(zigzag_encode32(first_len - 1));
    check(b, errc::bad_record, "record length shorter than its fields");
  }
  {
    byte_buffer b = good;
    b[kBatchHeaderBytes] = 0x01;  // length -1
    check(b, errc::bad_record, "negative record length");
  }
  {
    byte_buffer b = good;
    b[body + 2] = static_cast<uint8_t>(zigzag_encode32(1));  // offsetDelta 1 for record 0
    check(b, errc::bad_record, "offsetDelta out of sequence", false);
  }
  {
    byte_buffer b = good;
    b[body + 3] = static_cast<uint8_t>(zigzag_encode32(60));  // key length past the record
    check(b, errc::bad_record, "key length past the record");
  }
  {
    byte_buffer b = good;
    b[body + 3] = static_cast<uint8_t>(zigzag_encode32(-2));
    check(b, errc::bad_record, "key length -2");
  }
  {
    // Garbage where the records should be: a varint that never ends.
    byte_buffer b = good;
    for (size_t i = kBatchHeaderBytes; i < b.size(); ++i) b[i] = 0xFF;
    check(b, errc::bad_record, "runaway varint");
  }
}

TEST_CASE("RecordReaderWalksWithoutAVector") {
  const byte_buffer b = sample_batch();
  const batch_header h = read_header(b);
  record_reader reader(byte_view(b).subspan(kBatchHeaderBytes), h.base_offset, h.base_timestamp);
  record_view r;
  record_deltas d;
  std::vector<int64_t> ts_deltas;
  while (!reader.at_end()) {
    REQUIRE(reader.next(r, &d).ok());
    CHECK(d.offset_delta == static_cast<int32_t>(reader.records_read() - 1));
    ts_deltas.push_back(d.timestamp_delta);
  }
  CHECK(ts_deltas == std::vector<int64_t>{0, 5, 3});
}

TEST_CASE("CompressedBatchBombIsRejectedAtRecordsDepth") {
  // 8 MiB of zeros as one record value compresses to a few KiB: within
  // max_batch_bytes, but past a 1 MiB decompression limit.
  std::vector<record> rs(1);
  rs[0].value = std::string(size_t{8} << 20, '\0');
  for (auto codec : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
    batch_options o;
    o.codec = codec;
    auto b = build_batch(o, rs);
    REQUIRE(b.ok());
    validation_limits limits;
    limits.max_decompressed_bytes = size_t{1} << 20;
    INFO(codec_name(codec) << " " << b->size() << " bytes");
    REQUIRE(validate_batch(*b, limits, validation_depth::header_and_crc).ok());
    Status st = validate_batch(*b, limits, validation_depth::records).status();
    CHECK(st.code() == errc::decompressed_too_large);
    byte_buffer scratch;
    CHECK(decode_records(*b, scratch, limits.max_decompressed_bytes).status().code() ==
          errc::decompressed_too_large);
  }
}

TEST_CASE("CorruptCompressedPayloadIsRejectedAtRecordsDepth") {
  for (auto codec : {compression::gzip, compression::lz4, compression::zstd}) {
    batch_options o;
    o.codec = codec;
    byte_buffer b = sample_batch(o);
    b.resize(b.size() - 3);  // cut the compressed stream short
    mutate_header(b,
                  [&](batch_header& h) { h.batch_length = static_cast<int32_t>(b.size() - 12); });
    Status st = validate_batch(b, {}, validation_depth::records).status();
    INFO(codec_name(codec) << ": " << st.to_string());
    CHECK(st.code() == errc::decompression_failed);
  }
}
