// kappactl topic and cluster commands against a real kappad: text and JSON
// output, configs, and deletion.
#include <catch2/catch.hpp>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

TEST_CASE("topic create, list, describe, alter-config and delete, in text and JSON",
          "[kappactl][topic]") {
  kappad_process k;
  run_result r = ctl(
      k, {"topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000"});
  INFO(r.err << k.log());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "created topic orders with 3 partitions\n");
  REQUIRE(ctl(k, {"topic", "create", "audit", "--partitions", "1", "--replication-factor", "1"})
              .exit_code == 0);

  r = ctl(k, {"topic", "list"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "audit\norders\n");
  r = ctl(k, {"topic", "list", "--output", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "{\"topics\":[{\"name\":\"audit\",\"partitions\":1},{\"name\":\"orders\",\"partitions\":3}]"
        "}\n");

  r = ctl(k, {"topic", "describe", "orders", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(json_field(out[0], "name") == "\"orders\"");
  std::string parts = json_field(out[0], "partitions");
  for (int p = 0; p < 3; ++p) {
    CHECK(parts.find("{\"partition\":" + std::to_string(p) + ",\"leader\":") != std::string::npos);
  }
  for (const char* key : {"\"replicas\":[", "\"log_start_offset\":0"}) {
    INFO(key);
    CHECK(parts.find(key) != std::string::npos);
  }
  // Each high watermark is its partition's log end as `offsets` lists it
  // (past the leader's control batch, nothing produced yet).
  std::vector<int64_t> latest = latest_offsets(k, "orders");
  REQUIRE(latest.size() == 3);
  for (int p = 0; p < 3; ++p) {
    size_t at = parts.find("{\"partition\":" + std::to_string(p) + ",");
    REQUIRE(at != std::string::npos);
    std::string partition = parts.substr(at + 1, parts.find('}', at) - at - 1);
    INFO(partition);
    CHECK(json_field(partition, "high_watermark") == std::to_string(latest[p]));
  }
  CHECK(json_field(json_field(out[0], "configs"), "retention.ms") == "\"3600000\"");

  r = ctl(k, {"topic", "describe", "orders"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("topic orders: 3 partitions\n", 0) == 0);
  CHECK(r.out.find("partition 2  leader") != std::string::npos);
  CHECK(r.out.find("retention.ms=3600000") != std::string::npos);

  r = ctl(k, {"topic", "alter-config", "orders", "--config", "retention.ms=60000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  r = ctl(k, {"topic", "describe", "orders", "--output", "json"});
  CHECK(json_field(json_field(lines(r.out)[0], "configs"), "retention.ms") == "\"60000\"");

  r = ctl(k, {"topic", "delete", "audit"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "deleted topic audit\n");
  CHECK(ctl(k, {"topic", "list"}).out == "orders\n");
}

TEST_CASE("cluster describe names the broker and the controller", "[kappactl][cluster]") {
  kappad_process k;
  run_result r = ctl(k, {"cluster", "describe", "--output", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 1);
  CHECK(!json_field(out[0], "controller").empty());
  std::string brokers = json_field(out[0], "brokers");
  CHECK(brokers.find("\"id\":") != std::string::npos);
  CHECK(brokers.find("\"address\":") != std::string::npos);
  CHECK(brokers.find("\"alive\":true") != std::string::npos);
  r = ctl(k, {"cluster", "describe"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("alive") != std::string::npos);
}

// Every failure: a non-zero exit and exactly one line on stderr.
void check_one_line_failure(const run_result& r, const std::string& needle) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.find(needle) != std::string::npos);
}

TEST_CASE("unknown topics, invalid names and bad arguments fail with one line",
          "[kappactl][errors]") {
  kappad_process k;
  check_one_line_failure(ctl(k, {"topic", "describe", "nope"}), "nope");
  check_one_line_failure(ctl(k, {"consume", "nope"}), "nope");
  check_one_line_failure(ctl(k, {"produce", "nope"}, "a\n"), "nope");
  check_one_line_failure(ctl(k, {"offsets", "nope"}), "nope");
  check_one_line_failure(ctl(k, {"topic", "delete", "nope"}), "nope");
  check_one_line_failure(ctl(k, {"topic", "create", "bad/name", "--partitions", "1"}), "bad/name");
  check_one_line_failure(ctl(k, {"topic", "create", std::string(250, 'x'), "--partitions", "1"}),
                         "kappactl");
  REQUIRE(ctl(k, {"topic", "create", "t", "--partitions", "1"}).exit_code == 0);
  check_one_line_failure(ctl(k, {"topic", "create", "t", "--partitions", "1"}), "t");
  check_one_line_failure(ctl(k, {"consume", "t", "--partition", "7"}), "partition 7");
  check_one_line_failure(ctl(k, {"consume", "t", "--from", "yesterday"}), "ISO-8601");
  check_one_line_failure(ctl(k, {"topic", "create", "u", "--config", "novalue"}), "key=value");
  check_one_line_failure(ctl(k, {"produce", "t", "--acks", "2"}, "a\n"), "acks");
}

TEST_CASE("an unreachable broker is a one-line failure within the timeout", "[kappactl][errors]") {
  int port = kappa::test::unused_port();  // nothing listens there
  std::string addr = "127.0.0.1:" + std::to_string(port);
  for (std::vector<std::string> args : {std::vector<std::string>{"topic", "list"},
                                        {"cluster", "describe"},
                                        {"consume", "t"},
                                        {"offsets", "t"}}) {
    args.insert(args.end(), {"--bootstrap", addr, "--timeout-ms", "1500"});
    auto start = std::chrono::steady_clock::now();
    run_result r = run_tool(kKappactl, args, "", {}, 60);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK(s < 20);
  }
  // The environment variable is the default address.
  run_result r = run_tool(kKappactl, {"topic", "list", "--timeout-ms", "1000"}, "",
                          {"KAPPA_BOOTSTRAP=" + addr}, 60);
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);
}

}  // namespace
}  // namespace kappa::tools_test
