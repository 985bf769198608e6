// Smoke runs of kappa-bench produce, consume and e2e against a real kappad
// with tiny sizes: exit 0 and the JSON keys, baseline included.
#include <catch2/catch.hpp>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

run_result bench(const kappad_process& k, std::vector<std::string> args) {
  args.insert(args.end(), {"--bootstrap", k.address(), "--json", "--progress-interval", "0.2"});
  return run_tool(kKappaBench, args, "", {}, 180);
}

void check_latency(const std::string& j) {
  std::string l = json_field(j, "latency_ms");
  INFO(l);
  for (const char* key : {"avg", "p50", "p95", "p99", "p99_9", "max"})
    CHECK(!json_field(l, key).empty());
}

TEST_CASE("kappa-bench produce, consume and e2e run against kappad and print their JSON",
          "[kappa-bench][smoke][broker]") {
  kappad_process k;
  run_result r = bench(k, {"produce", "--topic", "b", "--num-records", "2000", "--record-size",
                           "100", "--partitions", "2", "--producers", "2", "--acks", "all",
                           "--baseline", "--topic-config", "flush.policy=interval"});
  INFO(r.err << k.log());
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  std::string j = out[0];
  CHECK(json_field(j, "workload") == "\"produce\"");
  CHECK(json_field(j, "records") == "2000");
  CHECK(json_field(j, "bytes") == "200000");
  for (const char* key : {"seconds", "records_per_sec", "mb_per_sec", "ratio_to_baseline"}) {
    INFO(key);
    CHECK(!json_field(j, key).empty());
  }
  check_latency(j);
  CHECK(!json_field(json_field(j, "baseline"), "mb_per_sec").empty());
  CHECK(r.err.find("records sent,") != std::string::npos);  // progress and final line
  CHECK(r.err.find("ms 99.9th.") != std::string::npos);

  r = bench(k, {"consume", "--topic", "b", "--baseline", "--baseline-message-bytes", "64KiB"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  j = lines(r.out).at(0);
  CHECK(json_field(j, "workload") == "\"consume\"");
  CHECK(json_field(j, "records") == "2000");
  CHECK(!json_field(j, "ratio_to_baseline").empty());
  CHECK(json_field(json_field(j, "baseline"), "kind") == "\"download\"");

  r = bench(k, {"e2e", "--topic", "e", "--num-records", "500", "--throughput", "1000",
                "--record-size", "64"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  j = lines(r.out).at(0);
  CHECK(json_field(j, "workload") == "\"e2e\"");
  CHECK(json_field(j, "records") == "500");
  check_latency(j);
}

TEST_CASE("kappa-bench against an unreachable broker fails with one line",
          "[kappa-bench][errors]") {
  std::string addr = "127.0.0.1:" + std::to_string(kappa::test::unused_port());
  run_result r = run_tool(
      kKappaBench, {"produce", "--bootstrap", addr, "--timeout-ms", "1000", "--num-records", "1"},
      "", {}, 60);
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);
  r = run_tool(kKappaBench, {"consume", "--bootstrap", addr, "--timeout-ms", "1000"}, "", {}, 60);
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);
}

}  // namespace
}  // namespace kappa::tools_test
