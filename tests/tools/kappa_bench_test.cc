// A smoke run of `kappa-bench storage` with tiny sizes: every phase runs,
// the JSON has every figure, and the files it wrote are gone afterwards.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/tools/tool_test_util.h"

namespace kappa::tools_test {
namespace {

TEST_CASE("kappa-bench storage runs every phase and prints its JSON", "[kappa-bench][smoke]") {
  temp_dir dir;
  run_result r = run(kKappaBench, {"storage", "--dir", dir.path(), "--total-bytes", "4MiB",
                                   "--reopen-bytes", "8MiB", "--read", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 1);  // with --json stdout is the one object; the rest is on stderr
  const std::string& j = out[0];
  CHECK(json_field(json_field(j, "config"), "total_bytes") == std::to_string(4 << 20));
  for (const char* phase : {"raw_buffered", "raw_synced", "append_interval", "append_always",
                            "append_always_threads", "read", "reopen"}) {
    INFO(phase);
    CHECK(!json_field(j, phase).empty());
  }
  for (const char* phase : {"append_interval", "append_always", "append_always_threads"}) {
    std::string p = json_field(j, phase);
    INFO(phase << ": " << p);
    CHECK(!json_field(p, "mb_per_s").empty());
    CHECK(!json_field(p, "ratio_to_raw_buffered").empty());
    CHECK(!json_field(p, "ratio_to_raw_synced").empty());
  }
  CHECK(json_field(json_field(j, "append_always_threads"), "threads") == "4");
  std::string read = json_field(j, "read");
  CHECK(json_field(read, "check") == "\"header+crc32c\"");
  CHECK(!json_field(read, "first_pass_gb_per_s").empty());
  CHECK(std::stoll(json_field(read, "bytes")) >= (4 << 20));
  std::string reopen = json_field(j, "reopen");
  CHECK(std::stoll(json_field(reopen, "bytes")) >= (8 << 20));
  CHECK(!json_field(reopen, "cold_open_seconds").empty());
  CHECK(!json_field(reopen, "warm_open_seconds").empty());
  CHECK(r.err.find("summary") != std::string::npos);
  // Nothing left behind without --keep.
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("kappa-bench storage without --dir is a one-line usage error", "[kappa-bench][errors]") {
  run_result r = run(kKappaBench, {"storage"});
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err).size() == 1);
}

}  // namespace
}  // namespace kappa::tools_test
