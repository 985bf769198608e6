// `kappactl log dump`, run as a built binary against segment files made of
// real RecordBatch v2 bytes.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/tools/tool_test_util.h"

namespace kappa::tools_test {
namespace {

TEST_CASE("dump prints one readable line per batch", "[kappactl][dump]") {
  temp_dir dir;
  auto positions = write_segment(dir.path(), 0, 2, 3);
  run_result r = run(kKappactl, {"log", "dump", dir / segment_name(0)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 3);  // the segment line, then one per batch
  CHECK(out[0].find(segment_name(0)) != std::string::npos);
  CHECK(out[1].find("base_offset=0 last_offset=2 count=3 max_timestamp=1700000000002") != std::string::npos);
  CHECK(out[1].find("size_bytes=" + std::to_string(positions[1])) != std::string::npos);
  CHECK(out[1].find("position=0 crc=ok") != std::string::npos);
  CHECK(out[2].find("base_offset=3 last_offset=5 count=3 max_timestamp=1700000000005") != std::string::npos);
  CHECK(out[2].find("position=" + std::to_string(positions[1]) + " crc=ok") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("dump --records prints every record's key, value and headers", "[kappactl][dump]") {
  temp_dir dir;
  write_segment(dir.path(), 0, 1, 2);
  run_result r = run(kKappactl, {"log", "dump", "--records", dir / segment_name(0)});
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(out[2] == "  record offset=0 timestamp=1700000000000 key=\"k0\" value=\"value-0\" headers=[\"h\"=\"0\"]");
  CHECK(out[3] == "  record offset=1 timestamp=1700000000001 key=\"k1\" value=\"value-1\" headers=[\"h\"=\"1\"]");
}

TEST_CASE("dump --output json has exactly the documented batch fields", "[kappactl][dump][json]") {
  temp_dir dir;
  auto positions = write_segment(dir.path(), 0, 2, 3);
  run_result r = run(kKappactl, {"log", "dump", "--output", "json", dir / segment_name(0)});
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 2);  // no segment line in JSON mode: every line is a batch
  const std::string& first = out[0];
  CHECK(first.front() == '{');
  CHECK(first.back() == '}');
  CHECK(json_field(first, "base_offset") == "0");
  CHECK(json_field(first, "last_offset") == "2");
  CHECK(json_field(first, "count") == "3");
  CHECK(json_field(first, "max_timestamp") == "1700000000002");
  CHECK(json_field(first, "size_bytes") == std::to_string(positions[1]));
  CHECK(json_field(first, "crc_ok") == "true");
  // Exactly six fields: one "key": per field.
  size_t fields = 0;
  for (size_t at = first.find("\":"); at != std::string::npos; at = first.find("\":", at + 1)) ++fields;
  CHECK(fields == 6);
  CHECK(json_field(out[1], "base_offset") == "3");
}

TEST_CASE("dump --output json --records carries base64 keys, values and headers", "[kappactl][dump][json]") {
  temp_dir dir;
  std::string path = dir / segment_name(7);
  std::vector<format::record> records(2);
  records[0].key = "hello";
  records[0].value = "world!";
  records[0].headers = {{"trace", std::string("k1")}, {"empty", std::nullopt}};
  records[0].timestamp = 1000;
  records[1].key = std::nullopt;  // null key and value
  records[1].value = std::nullopt;
  records[1].timestamp = 1005;
  format::batch_options options;
  options.base_offset = 7;
  auto batch = format::build_batch(options, records);
  REQUIRE(batch.ok());
  append_to_file(path, *batch);

  run_result r = run(kKappactl, {"log", "dump", "--output", "json", "--records", path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(json_field(out[0], "base_offset") == "7");
  CHECK(json_field(out[0], "last_offset") == "8");
  CHECK(json_field(out[0], "max_timestamp") == "1005");
  // base64("hello") = aGVsbG8=, base64("world!") = d29ybGQh, base64("k1") = azE=
  CHECK(json_field(out[0], "records") ==
        "[{\"offset\":7,\"timestamp\":1000,\"key\":\"aGVsbG8=\",\"value\":\"d29ybGQh\","
        "\"headers\":[{\"key\":\"trace\",\"value\":\"azE=\"},{\"key\":\"empty\",\"value\":null}]},"
        "{\"offset\":8,\"timestamp\":1005,\"key\":null,\"value\":null,\"headers\":[]}]");
}

TEST_CASE("dump of a partition directory walks its segments in offset order", "[kappactl][dump]") {
  temp_dir dir;
  // Written out of order, with files that are not segments beside them.
  write_segment(dir.path(), 6, 2, 3);
  write_segment(dir.path(), 0, 2, 3);
  append_to_file(dir / "00000000000000000000.index", as_bytes("not a segment"));
  append_to_file(dir / "notes.txt", as_bytes("not a segment"));
  run_result r = run(kKappactl, {"log", "dump", "-o", "json", dir.path()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  for (size_t i = 0; i < out.size(); ++i) {
    CHECK(json_field(out[i], "base_offset") == std::to_string(3 * i));
    CHECK(json_field(out[i], "crc_ok") == "true");
  }
  run_result text = run(kKappactl, {"log", "dump", dir.path()});
  auto text_lines = lines(text.out);
  REQUIRE(text_lines.size() == 6);
  CHECK(text_lines[0].find(segment_name(0)) != std::string::npos);
  CHECK(text_lines[3].find(segment_name(6)) != std::string::npos);
}

TEST_CASE("ChecksumMismatch: dump prints BAD and goes on", "[kappactl][dump][damage]") {
  temp_dir dir;
  std::string path = dir / segment_name(0);
  auto positions = write_segment(dir.path(), 0, 3, 2);
  flip_bit(path, positions[1] + 70, 3);  // inside the second batch's records
  run_result r = run(kKappactl, {"log", "dump", path});
  CHECK(r.exit_code == 1);
  auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(out[1].find("crc=ok") != std::string::npos);
  CHECK(out[2].find("base_offset=2") != std::string::npos);
  CHECK(out[2].find("crc=BAD") != std::string::npos);
  CHECK(out[3].find("base_offset=4") != std::string::npos);
  CHECK(out[3].find("crc=ok") != std::string::npos);
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find("byte " + std::to_string(positions[1])) != std::string::npos);
  CHECK(err[0].find("CRC mismatch") != std::string::npos);

  run_result json = run(kKappactl, {"log", "dump", "-o", "json", "--records", path});
  auto json_lines = lines(json.out);
  REQUIRE(json_lines.size() == 3);
  CHECK(json_field(json_lines[1], "crc_ok") == "false");
  CHECK(json_field(json_lines[1], "records") == "null");
  CHECK(json_field(json_lines[2], "crc_ok") == "true");
}

TEST_CASE("TruncatedTrailingBatch: dump reports the tail and stops that segment", "[kappactl][dump][damage]") {
  temp_dir dir;
  std::string path = dir / segment_name(0);
  auto positions = write_segment(dir.path(), 0, 2, 2);
  byte_buffer next = make_batch(4, 2);
  append_to_file(path, byte_view(next).first(next.size() / 2));
  run_result r = run(kKappactl, {"log", "dump", path});
  CHECK(r.exit_code == 1);
  auto out = lines(r.out);
  CHECK(out.size() == 3);
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find("truncated") != std::string::npos);
}

TEST_CASE("dump of a missing path is a one-line error", "[kappactl][dump][errors]") {
  temp_dir dir;
  run_result r = run(kKappactl, {"log", "dump", dir / "nope"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.find("nope") != std::string::npos);
}

TEST_CASE("kappactl --help documents the log commands", "[kappactl][help]") {
  run_result root = run(kKappactl, {"--help"});
  CHECK(root.exit_code == 0);
  CHECK(root.out.find("log dump") != std::string::npos);
  CHECK(root.out.find("log verify") != std::string::npos);
  run_result log = run(kKappactl, {"log", "--help"});
  CHECK(log.exit_code == 0);
  CHECK(log.out.find("dump") != std::string::npos);
  CHECK(log.out.find("verify") != std::string::npos);
  run_result dump = run(kKappactl, {"log", "dump", "--help"});
  CHECK(dump.exit_code == 0);
  CHECK(dump.out.find("--records") != std::string::npos);
  CHECK(dump.out.find("base64") != std::string::npos);
  run_result bad = run(kKappactl, {"log", "frobnicate"});
  CHECK(bad.exit_code == 3);
  CHECK(lines(bad.err).size() == 1);
}

}  // namespace
}  // namespace kappa::tools_test
