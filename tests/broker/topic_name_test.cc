#include <catch2/catch.hpp>

#include "broker/errc.h"
#include "broker/topic_name.h"

using namespace kappa::broker;

TEST_CASE("topic names follow Kafka's rules", "[broker][topic_name]") {
  for (const char* ok : {"a", "orders", "Orders.v2", "my_topic-1", "__consumer_offsets", "..."}) {
    INFO(ok);
    CHECK(validate_topic_name(ok).ok());
  }
  CHECK(validate_topic_name(std::string(249, 'x')).ok());
  for (std::string bad : {std::string(), std::string("."), std::string(".."),
                          std::string(250, 'x'), std::string("a b"), std::string("a/b"),
                          std::string("caf\xc3\xa9"), std::string("a\0b", 3), std::string("t:1")}) {
    INFO(bad);
    auto st = validate_topic_name(bad);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == errc::invalid_topic);
    CHECK(api_error_code(st) == 17);  // INVALID_TOPIC_EXCEPTION
    CHECK_FALSE(st.message().empty());
  }
  CHECK(validate_topic_name("a/b").message().find("'/' at position 1") != std::string::npos);
  CHECK(is_internal_topic("__consumer_offsets"));
  CHECK_FALSE(is_internal_topic("_one"));
}
