#include <catch2/catch.hpp>

#include "broker/errc.h"
#include "broker/topic_config.h"

using namespace kappa::broker;
using kappa::storage::flush_policy;
using kappa::storage::log_config;

TEST_CASE("topic configs map Kafka names onto the log config", "[broker][topic_config]") {
  topic_overrides o{{"retention.ms", "-1"},       {"retention.bytes", "1048576"},
                    {"segment.bytes", "65536"},   {"segment.ms", "60000"},
                    {"max.message.bytes", "2048"}, {"flush.ms", "50"},
                    {"flush.policy", "interval"}};
  REQUIRE(validate_topic_configs(o).ok());
  log_config c = effective_log_config(log_config{}, o);
  CHECK(c.retention_ms == -1);
  CHECK(c.retention_bytes == 1048576);
  CHECK(c.segment_bytes == 65536);
  CHECK(c.segment_ms == 60000);
  CHECK(c.max_batch_bytes == 2048);
  CHECK(c.flush_interval_ms == 50);
  CHECK(c.flush == flush_policy::interval);
}

TEST_CASE("bad topic configs are INVALID_CONFIG naming the config", "[broker][topic_config]") {
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"retention.ms", "-2"}, {"retention.ms", "abc"}, {"segment.bytes", "1"},
           {"segment.bytes", "1e9"}, {"max.message.bytes", ""}, {"flush.policy", "sometimes"},
           {"flush.ms", "0"}, {"cleanup.policy", "compact"}, {"segment.ms", "12 "}}) {
    INFO(k << "=" << v);
    auto st = validate_topic_configs({{k, v}});
    CHECK(st.code() == errc::invalid_config);
    CHECK(api_error_code(st) == 40);
    CHECK(st.message().find(k) != std::string::npos);
  }
}

TEST_CASE("describe marks defaults and overrides", "[broker][topic_config]") {
  auto entries = describe_topic_configs(log_config{}, {{"retention.ms", "1000"}});
  REQUIRE(entries.size() == 7);
  for (size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].name < entries[i].name);
  for (const auto& e : entries) {
    CHECK(e.is_default == (e.name != "retention.ms"));
    if (e.name == "retention.ms") CHECK(e.value == "1000");
    if (e.name == "flush.policy") CHECK(e.value == "always");
  }
}
