// kappad's consumer-group flags and the reserved internal topic name.
#include <catch2/catch.hpp>

#include "broker/config.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

using namespace kappa::broker;

namespace {
parse_outcome parse_group_flags(std::vector<std::string> args) {
  args.insert(args.begin(), "kappad");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse_flags(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("group flags default to Kafka's figures and parse", "[broker][config][group]") {
  auto d = parse_group_flags({});
  REQUIRE_FALSE(d.should_exit);
  CHECK(d.config.offsets_topic_partitions == 16);
  CHECK(d.config.offsets_topic_replication_factor == 3);
  CHECK(d.config.group_session_timeout_default_ms == 45000);
  CHECK(d.config.group_rebalance_timeout_default_ms == 60000);
  CHECK(d.config.group_heartbeat_interval_ms == 500);
  CHECK(d.config.offsets_retention_ms == int64_t{7} * 24 * 3600 * 1000);

  auto out = parse_group_flags({"--offsets-topic-partitions", "3", "--offsets-topic-replication-factor",
                                "1", "--group-min-session-timeout-ms", "500",
                                "--group-max-session-timeout-ms", "60000",
                                "--group-session-timeout-default-ms", "6000",
                                "--group-heartbeat-interval-ms", "250", "--offsets-retention-ms",
                                "1000", "--group-max-size", "7"});
  REQUIRE_FALSE(out.should_exit);
  CHECK(out.config.offsets_topic_partitions == 3);
  CHECK(out.config.offsets_topic_replication_factor == 1);
  CHECK(out.config.group_min_session_timeout_ms == 500);
  CHECK(out.config.group_max_session_timeout_ms == 60000);
  CHECK(out.config.group_session_timeout_default_ms == 6000);
  CHECK(out.config.group_heartbeat_interval_ms == 250);
  CHECK(out.config.offsets_retention_ms == 1000);
  CHECK(out.config.group_max_size == 7);
}

TEST_CASE("inconsistent session timeouts are refused at start", "[broker][config][group]") {
  auto inverted = parse_group_flags({"--group-min-session-timeout-ms", "9000",
                                     "--group-max-session-timeout-ms", "8000"});
  CHECK(inverted.should_exit);
  CHECK(inverted.exit_code != 0);
  auto outside = parse_group_flags({"--group-max-session-timeout-ms", "10000"});  // default 45 s
  CHECK(outside.should_exit);
  CHECK(outside.exit_code != 0);
  CHECK(parse_group_flags({"--offsets-topic-partitions", "0"}).should_exit);
}

TEST_CASE("__consumer_offsets is reserved: readable, not writable by clients", "[broker][group]") {
  CHECK(validate_topic_name("__consumer_offsets").ok());
  CHECK(is_internal_topic("__consumer_offsets"));
  CHECK(is_reserved_topic("__consumer_offsets"));
  CHECK_FALSE(is_reserved_topic("__other"));
  auto st = check_client_may_write("__consumer_offsets");
  CHECK(st.code() == errc::invalid_topic);
  CHECK(check_client_may_write("orders").ok());
}
