#include <catch2/catch.hpp>

#include "broker/errc.h"
#include "broker/topic_store.h"
#include "storage/env.h"

using namespace kappa::broker;

TEST_CASE("topics persist across reopen", "[broker][topic_store]") {
  auto env = kappa::storage::new_mem_env();
  REQUIRE(env->create_dirs("/d").ok());
  {
    auto s = open_file_topic_store(*env, "/d/topics");
    REQUIRE(s.ok());
    REQUIRE((*s)->create({"a", 3, 1, {{"retention.ms", "10"}}}).ok());
    REQUIRE((*s)->create({"b", 1, 1, {}}).ok());
    CHECK((*s)->create({"a", 1, 1, {}}).code() == errc::topic_already_exists);
    REQUIRE((*s)->set_configs("b", {{"flush.policy", "interval"}}).ok());
    REQUIRE((*s)->remove("a").ok());
    CHECK((*s)->remove("a").code() == errc::unknown_topic_or_partition);
    REQUIRE((*s)->create({"a", 2, 1, {}}).ok());
  }
  auto s = open_file_topic_store(*env, "/d/topics");
  REQUIRE(s.ok());
  auto all = (*s)->list();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == topic_info{"a", 2, 1, {}});
  CHECK(all[1] == topic_info{"b", 1, 1, {{"flush.policy", "interval"}}});
}

TEST_CASE("a damaged topic file refuses to open", "[broker][topic_store]") {
  auto env = kappa::storage::new_mem_env();
  REQUIRE(env->create_dirs("/d").ok());
  {
    auto s = open_file_topic_store(*env, "/d/topics");
    REQUIRE((*s)->create({"a", 3, 1, {}}).ok());
  }
  auto f = env->open("/d/topics", kappa::storage::open_mode::read_write);
  REQUIRE(f.ok());
  uint8_t byte = 0xff;
  REQUIRE((*f)->pwrite(20, kappa::byte_view(&byte, 1)).ok());
  CHECK_FALSE(open_file_topic_store(*env, "/d/topics").ok());
}

TEST_CASE("topic payload codec rejects truncation", "[broker][topic_store]") {
  auto bytes = encode_topics({{"a", 3, 1, {{"k", "v"}}}});
  REQUIRE(decode_topics(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(decode_topics(kappa::byte_view(bytes).first(n)).ok());
  }
}
