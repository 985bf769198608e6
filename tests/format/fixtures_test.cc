// Interop with python-kafka 2.0.2 (Debian python3-kafka): batches it built
// (tests/format/fixtures/, made by make_fixtures.py) must validate, decode to
// the records it was given, and re-encode with build_batch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "format_test_util.h"
#include "proto/format/record_reader.h"

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

namespace {

const std::filesystem::path kFixtureDir =
    std::filesystem::path(KAPPA_SOURCE_DIR) / "tests/format/fixtures";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

byte_buffer from_hex(std::string_view hex) {
  byte_buffer out;
  int nibble = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else
      continue;  // newlines
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<uint8_t>(nibble * 16 + v));
      nibble = -1;
    }
  }
  REQUIRE(nibble < 0);
  return out;
}

// "~" is null, "x:<hex>" a byte string.
std::optional<std::string> decode_token(const std::string& t) {
  if (t == "~") return std::nullopt;
  REQUIRE(t.rfind("x:", 0) == 0);
  byte_buffer b = from_hex(std::string_view(t).substr(2));
  return std::string(b.begin(), b.end());
}

struct fixture {
  std::string name;
  byte_buffer batch;
  batch_options options;
  std::vector<record> records;
  std::vector<int64_t> offsets;
};

fixture load(const std::filesystem::path& hex_path) {
  fixture fx;
  fx.name = hex_path.stem().string();
  fx.batch = from_hex(read_file(hex_path));
  std::istringstream desc(read_file(hex_path.parent_path() / (fx.name + ".records")));
  std::string line;
  while (std::getline(desc, line)) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "options") {
      std::string kv;
      while (in >> kv) {
        const auto eq = kv.find('=');
        const std::string k = kv.substr(0, eq);
        const int64_t v = std::stoll(kv.substr(eq + 1));
        if (k == "codec")
          fx.options.codec = static_cast<compression>(v);
        else if (k == "transactional")
          fx.options.transactional = v != 0;
        else if (k == "producer_id")
          fx.options.producer_id = v;
        else if (k == "producer_epoch")
          fx.options.producer_epoch = static_cast<int16_t>(v);
        else if (k == "base_sequence")
          fx.options.base_sequence = static_cast<int32_t>(v);
        else if (k == "partition_leader_epoch")
          fx.options.partition_leader_epoch = static_cast<int32_t>(v);
        else if (k == "base_offset")
          fx.options.base_offset = v;
        else
          FAIL("unknown option " << k);
      }
    } else if (kind == "record") {
      record r;
      int64_t offset;
      std::string key, value;
      size_t nheaders;
      in >> offset >> r.timestamp >> key >> value >> nheaders;
      r.key = decode_token(key);
      r.value = decode_token(value);
      for (size_t i = 0; i < nheaders; ++i) {
        std::string hk, hv;
        in >> hk >> hv;
        r.headers.push_back({*decode_token(hk), decode_token(hv)});
      }
      REQUIRE_FALSE(in.fail());
      fx.records.push_back(std::move(r));
      fx.offsets.push_back(offset);
    }
  }
  return fx;
}

std::vector<fixture> load_all() {
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(kFixtureDir)) {
    if (e.path().extension() == ".hex") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<fixture> out;
  for (const auto& p : paths) out.push_back(load(p));
  return out;
}

void check_content(const fixture& fx, byte_view batch) {
  byte_buffer scratch;
  auto decoded = decode_records(batch, scratch);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == fx.records.size());
  for (size_t i = 0; i < fx.records.size(); ++i) {
    const record& want = fx.records[i];
    const record_view& got = (*decoded)[i];
    INFO("record " << i);
    CHECK(got.offset == fx.offsets[i]);
    CHECK(got.timestamp == want.timestamp);
    CHECK(got.key.has_value() == want.key.has_value());
    if (want.key) CHECK(str(got.key) == *want.key);
    CHECK(got.value.has_value() == want.value.has_value());
    if (want.value) CHECK(str(got.value) == *want.value);
    REQUIRE(got.headers.size() == want.headers.size());
    for (size_t h = 0; h < want.headers.size(); ++h) {
      CHECK(got.headers[h].key == want.headers[h].key);
      CHECK(got.headers[h].value.has_value() == want.headers[h].value.has_value());
      if (want.headers[h].value) CHECK(str(got.headers[h].value) == *want.headers[h].value);
    }
  }
}

}  // namespace

TEST_CASE("PythonKafkaFixturesExistForEveryCodec") {
  std::vector<compression> codecs;
  for (const fixture& fx : load_all()) codecs.push_back(fx.options.codec);
  for (auto c : {compression::none, compression::gzip, compression::snappy, compression::lz4,
                 compression::zstd}) {
    INFO(codec_name(c));
    CHECK(std::count(codecs.begin(), codecs.end(), c) >= 1);
  }
}

TEST_CASE("PythonKafkaBatchesValidateAndDecodeToTheirRecords") {
  for (const fixture& fx : load_all()) {
    INFO("fixture " << fx.name);
    auto h = validate_batch(fx.batch, {}, validation_depth::records);
    INFO(h.status().to_string());
    REQUIRE(h.ok());
    CHECK(h->size_bytes() == fx.batch.size());
    CHECK(h->codec() == fx.options.codec);
    CHECK(h->base_offset == 0);
    CHECK(h->partition_leader_epoch == 0);
    CHECK(h->is_transactional() == fx.options.transactional);
    CHECK(h->producer_id == fx.options.producer_id);
    CHECK(h->producer_epoch == fx.options.producer_epoch);
    CHECK(h->base_sequence == fx.options.base_sequence);
    CHECK(h->record_count == static_cast<int32_t>(fx.records.size()));
    check_content(fx, fx.batch);
  }
}

// Which codecs re-encode byte for byte:
//   none    always: the record encoding is fully determined.
//   snappy  python-snappy calls the same libsnappy with the same 32 KiB
//           xerial blocks.
//   zstd    python3-zstandard's ZstdCompressor().compress() and our
//           ZSTD_compress both write level 3 with the content size, through
//           Debian's libzstd. (Holds while both use the same zstd release.)
// Not byte for byte, so for these the decompressed records must match
// byte for byte instead, and the re-encoded batch must decode to the same
// records:
//   gzip    python-kafka writes level 9 and the current time into the gzip
//           header; we write Java's default level 6 and mtime 0.
//   lz4     python's lz4.frame stores the content size in the frame header;
//           we write frames as Kafka's KafkaLZ4BlockOutputStream does, without.
TEST_CASE("PythonKafkaBatchesReencodeWithBuildBatch") {
  for (const fixture& fx : load_all()) {
    INFO("fixture " << fx.name);
    auto built = build_batch(fx.options, fx.records);
    REQUIRE(built.ok());
    REQUIRE(validate_batch(*built, {}, validation_depth::records).ok());
    const compression c = fx.options.codec;
    if (c == compression::none || c == compression::snappy || c == compression::zstd) {
      CHECK(*built == fx.batch);
    } else {
      CHECK(*built != fx.batch);  // if this starts to hold, move the codec up
      byte_buffer theirs_scratch, ours_scratch;
      auto theirs = records_payload(fx.batch, theirs_scratch, size_t{64} << 20);
      auto ours = records_payload(*built, ours_scratch, size_t{64} << 20);
      REQUIRE(theirs.ok());
      REQUIRE(ours.ok());
      CHECK(std::equal(theirs->begin(), theirs->end(), ours->begin(), ours->end()));
      // Everything before the compressed payload but the CRC and batchLength agrees.
      batch_header a = read_header(fx.batch), b = read_header(*built);
      a.crc = b.crc;
      a.batch_length = b.batch_length;
      byte_buffer ha(kBatchHeaderBytes), hb(kBatchHeaderBytes);
      write_header(a, ha);
      write_header(b, hb);
      CHECK(ha == hb);
    }
    check_content(fx, *built);
  }
}
