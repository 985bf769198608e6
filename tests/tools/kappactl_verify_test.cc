// `kappactl log verify`, run as a built binary: exit codes and the one-line
// report of where the damage is.
#include <catch2/catch.hpp>
#include <filesystem>

#include "storage/env.h"
#include "storage/log.h"
#include "tests/tools/tool_test_util.h"

namespace kappa::tools_test {
namespace {

TEST_CASE("verify of a log written by storage::log is clean", "[kappactl][verify]") {
  temp_dir dir;
  std::string part = dir / "orders-0";
  {
    auto log = storage::log::open(storage::posix_env(), part, storage::log_config{});
    REQUIRE(log.ok());
    for (int i = 0; i < 5; ++i) {
      byte_buffer batch = make_batch(0, 3);
      REQUIRE((*log)->append(batch, 0).ok());
    }
    REQUIRE((*log)->close().ok());
  }
  run_result r = run(kKappactl, {"log", "verify", part});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("clean") != std::string::npos);
  CHECK(r.out.find("5 batches, next offset 15") != std::string::npos);
  CHECK(r.err.empty());

  run_result json = run(kKappactl, {"log", "verify", "--output", "json", part});
  CHECK(json.exit_code == 0);
  CHECK(json_field(json.out, "verdict") == "\"clean\"");
  CHECK(json_field(json.out, "batches") == "5");
  CHECK(json_field(json.out, "next_offset") == "15");

  // The dump of the same directory agrees with what was appended.
  run_result dump = run(kKappactl, {"log", "dump", "-o", "json", part});
  CHECK(dump.exit_code == 0);
  auto batches = lines(dump.out);
  REQUIRE(batches.size() == 5);
  CHECK(json_field(batches[4], "base_offset") == "12");
  CHECK(json_field(batches[4], "last_offset") == "14");
}

TEST_CASE("TornTail: garbage after the last batch exits 1", "[kappactl][verify][damage]") {
  temp_dir dir;
  std::string seg = dir / segment_name(0);
  write_segment(dir.path(), 0, 3, 2);
  size_t valid_bytes = std::filesystem::file_size(seg);
  byte_buffer next = make_batch(6, 2);
  append_to_file(seg, byte_view(next).first(next.size() - 5));  // a partial batch
  run_result r = run(kKappactl, {"log", "verify", dir.path()});
  CHECK(r.exit_code == 1);
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find("torn tail") != std::string::npos);
  CHECK(err[0].find(segment_name(0)) != std::string::npos);
  CHECK(err[0].find("byte " + std::to_string(valid_bytes)) != std::string::npos);
}

TEST_CASE("TornTail: random bytes after the last batch exit 1", "[kappactl][verify][damage]") {
  temp_dir dir;
  write_segment(dir.path(), 0, 2, 2);
  append_to_file(dir / segment_name(0), as_bytes("\x01\x02garbage that is not a batch"));
  run_result r = run(kKappactl, {"log", "verify", dir.path()});
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);
}

TEST_CASE("Corruption: a flipped bit mid-log followed by valid batches exits 2", "[kappactl][verify][damage]") {
  temp_dir dir;
  std::string seg = dir / segment_name(0);
  auto positions = write_segment(dir.path(), 0, 4, 2);
  flip_bit(seg, positions[1] + 80, 0);
  run_result r = run(kKappactl, {"log", "verify", dir.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find("corruption") != std::string::npos);
  CHECK(err[0].find(segment_name(0)) != std::string::npos);
  CHECK(err[0].find("byte " + std::to_string(positions[1])) != std::string::npos);

  run_result json = run(kKappactl, {"log", "verify", "-o", "json", dir.path()});
  CHECK(json.exit_code == 2);
  CHECK(json_field(json.out, "verdict") == "\"corruption\"");
  CHECK(json_field(json.out, "position") == std::to_string(positions[1]));
  CHECK(json_field(json.out, "batches") == "1");
}

TEST_CASE("Corruption: damage in a non-final segment exits 2", "[kappactl][verify][damage]") {
  temp_dir dir;
  auto positions = write_segment(dir.path(), 0, 2, 2);
  write_segment(dir.path(), 4, 2, 2);
  flip_bit(dir / segment_name(0), positions[1] + 70, 5);  // the last batch of the first segment
  run_result r = run(kKappactl, {"log", "verify", dir.path()});
  CHECK(r.exit_code == 2);
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find(segment_name(0)) != std::string::npos);
}

TEST_CASE("verify of a missing directory is a one-line error with exit 3", "[kappactl][verify][errors]") {
  temp_dir dir;
  run_result r = run(kKappactl, {"log", "verify", dir / "no-such-partition"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  auto err = lines(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0].find("no-such-partition") != std::string::npos);
  CHECK(err[0].find("No such file or directory") != std::string::npos);
}

TEST_CASE("verify without a path is a one-line usage error", "[kappactl][verify][errors]") {
  run_result r = run(kKappactl, {"log", "verify"});
  CHECK(r.exit_code == 3);
  CHECK(lines(r.err).size() == 1);
}

}  // namespace
}  // namespace kappa::tools_test
