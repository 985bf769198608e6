// log_manager: the data dir lock, finding partitions, removal, background flush.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "log_test_util.h"
#include "storage/log_manager.h"

namespace kappa::storage::test {

TEST_CASE("partition_ids_parse_from_directory_names", "[log_manager]") {
  auto id = partition_id::parse("my.topic-with-dash-12");
  REQUIRE(id);
  CHECK(id->topic == "my.topic-with-dash");
  CHECK(id->partition == 12);
  CHECK(id->dir_name() == "my.topic-with-dash-12");
  CHECK_FALSE(partition_id::parse("nodash"));
  CHECK_FALSE(partition_id::parse("t-"));
  CHECK_FALSE(partition_id::parse("t-x1"));
  CHECK_FALSE(partition_id::parse("bad/name-1"));
  CHECK_FALSE(partition_id::parse(".lock"));
}

TEST_CASE("a_second_manager_on_the_same_data_dir_is_refused", "[log_manager]") {
  fault_fixture f;
  log_manager_options o;
  o.background = false;
  auto m = log_manager::open(f.fe, "/data", o);
  REQUIRE(m.ok());
  auto second = log_manager::open(f.fe, "/data", o);
  REQUIRE(!second.ok());
  CHECK_THAT(second.status().message(), Catch::Contains("in use"));
  REQUIRE((*m)->close().ok());
  auto third = log_manager::open(f.fe, "/data", o);
  CHECK(third.ok());
}

TEST_CASE("a_reopened_manager_finds_its_partitions_and_remove_deletes_the_dir", "[log_manager]") {
  fault_fixture f;
  log_manager_options o;
  o.background = false;
  o.default_config = small_config();
  {
    auto m = log_manager::open(f.fe, "/data", o);
    REQUIRE(m.ok());
    for (int p = 0; p < 5; ++p) {
      auto l = (*m)->get_or_create({"events", p}, small_config());
      REQUIRE(l.ok());
      for (int i = 0; i <= p; ++i) {
        auto b = make_batch(1, 1000 + i);
        REQUIRE((*l)->append(b, 0).ok());
      }
    }
    auto again = (*m)->get_or_create({"events", 2}, small_config());
    REQUIRE(again.ok());
    CHECK(*again == (*m)->get({"events", 2}));
    CHECK((*m)->get_or_create({"bad topic", 0}, small_config()).status().code() == errc::invalid_argument);
    REQUIRE((*m)->close().ok());
  }
  auto m = log_manager::open(f.fe, "/data", o);
  REQUIRE(m.ok());
  auto parts = (*m)->partitions();
  REQUIRE(parts.size() == 5);
  for (int p = 0; p < 5; ++p) {
    log* l = (*m)->get({"events", p});
    REQUIRE(l != nullptr);
    CHECK(l->status().ok());
    CHECK(l->log_end_offset() == p + 1);
  }
  REQUIRE((*m)->remove({"events", 3}).ok());
  CHECK((*m)->get({"events", 3}) == nullptr);
  CHECK_FALSE(f.fe.exists("/data/events-3"));
  CHECK((*m)->partitions().size() == 4);
  CHECK((*m)->remove({"events", 3}).code() == errc::not_found);
  REQUIRE((*m)->close().ok());
}

TEST_CASE("interval_flush_happens_in_the_background", "[log_manager]") {
  fault_fixture f;
  log_manager_options o;
  o.default_config = small_config();
  auto m = log_manager::open(f.fe, "/data", o);
  REQUIRE(m.ok());
  auto c = small_config();
  c.flush = flush_policy::interval;
  c.flush_interval_ms = 20;
  auto l = (*m)->get_or_create({"t", 0}, c);
  REQUIRE(l.ok());
  auto b = make_batch(3, 1000);
  REQUIRE((*l)->append(b, 0).ok());
  CHECK((*l)->durable_end_offset() == 0);  // interval: not synced by append
  for (int i = 0; i < 500 && (*l)->durable_end_offset() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK((*l)->durable_end_offset() == 3);
  auto start = std::chrono::steady_clock::now();
  REQUIRE((*m)->close().ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

}  // namespace kappa::storage::test
