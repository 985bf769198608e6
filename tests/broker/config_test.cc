#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "broker/config.h"

using namespace kappa::broker;

namespace {
parse_outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kappad");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_flags(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("flags have the documented defaults", "[broker][config]") {
  auto out = parse({});
  REQUIRE_FALSE(out.should_exit);
  CHECK(out.config.node_id == 1);
  CHECK(out.config.listen == "127.0.0.1:9092");
  CHECK(out.config.data_dir == "./data");
  CHECK(out.config.metrics_listen == "127.0.0.1:9644");
  CHECK(out.config.default_log.max_batch_bytes == size_t{1} << 20);
  CHECK(out.config.default_log.flush == kappa::storage::flush_policy::always);
  CHECK_FALSE(out.config.auto_create_topics);
}

TEST_CASE("flags parse and bad ones exit non-zero", "[broker][config]") {
  auto out = parse({"--node-id", "7", "--listen", "127.0.0.1:0", "--log-flush-policy", "interval",
                    "--max-message-bytes", "4096", "--auto-create-topics", "--log-level", "warn"});
  REQUIRE_FALSE(out.should_exit);
  CHECK(out.config.node_id == 7);
  CHECK(out.config.default_log.flush == kappa::storage::flush_policy::interval);
  CHECK(out.config.default_log.max_batch_bytes == 4096);
  CHECK(out.config.auto_create_topics);
  CHECK(out.config.log_level == "warn");

  for (std::vector<std::string> bad : {std::vector<std::string>{"--listen", "nohostport"},
                                       {"--log-flush-policy", "sometimes"},
                                       {"--log-level", "loud"},
                                       {"--no-such-flag"},
                                       {"--max-message-bytes", "10"}}) {
    auto o = parse(bad);
    CHECK(o.should_exit);
    CHECK(o.exit_code != 0);
  }
}

TEST_CASE("flags come from a TOML file too", "[broker][config]") {
  char path[] = "/tmp/kappad_config_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "node-id = 3\nlisten = \"127.0.0.1:19999\"\nlog-retention-ms = 5000\n"
         "auto-create-topics = true\n";
  }
  auto out = parse({"--config", path});
  std::remove(path);
  REQUIRE_FALSE(out.should_exit);
  CHECK(out.config.node_id == 3);
  CHECK(out.config.listen == "127.0.0.1:19999");
  CHECK(out.config.default_log.retention_ms == 5000);
  CHECK(out.config.auto_create_topics);
}
