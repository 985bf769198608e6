// The metadata cache's leader bookkeeping against a two-broker fake
// cluster: hints with a newer epoch re-route at once, older ones do not,
// a refresh from a broker that lags the election does not undo a hint, and
// a partition without a usable hint waits for a refresh.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "client/src/metadata_cache.h"
#include "tests/client/fake_broker.h"

using kappa::test::fake_broker;
using kappa::test::fake_broker_state;

namespace {

kappa::v1::LeaderHint hint(int32_t id, const std::string& address, int32_t epoch) {
  kappa::v1::LeaderHint h;
  h.set_leader_id(id);
  h.set_leader_address(address);
  h.set_leader_epoch(epoch);
  return h;
}

}  // namespace

TEST_CASE("metadata cache: leader hints, epochs and stale partitions", "[client][metadata]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 2);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  kappa::client_config config;
  config.bootstrap = b1.address() + "," + b2.address();
  config.retry_backoff_min_ms = 1;
  kappa::client::connection_pool pool(config);
  kappa::client::metadata_cache cache(pool);
  REQUIRE(cache.refresh({"t"}).ok());
  REQUIRE(cache.leader("t", 0) == b1.address());
  REQUIRE(cache.leader_epoch("t", 0) == 0);

  SECTION("a newer hint re-routes one partition at once") {
    CHECK(cache.not_leader("t", 0, b1.address(), hint(2, b2.address(), 1)));
    CHECK(cache.leader("t", 0) == b2.address());
    CHECK(cache.leader_epoch("t", 0) == 1);
    CHECK(cache.leader("t", 1) == b1.address());  // the other partition keeps its leader
    // A refresh answered before the brokers learnt of the election (epoch
    // 0) does not undo the hint.
    REQUIRE(cache.refresh({}).ok());
    CHECK(cache.leader("t", 0) == b2.address());
    // A late answer from the old leader, overtaken by the hint: still
    // routable, nothing to invalidate.
    CHECK(cache.not_leader("t", 0, b1.address(), hint(-1, "", -1)));
    CHECK(cache.leader("t", 0) == b2.address());
  }
  SECTION("a hint that is not newer, or names no address, waits for a refresh") {
    CHECK_FALSE(cache.not_leader("t", 0, b1.address(), hint(2, b2.address(), 0)));
    CHECK_FALSE(cache.leader("t", 0).has_value());
    CHECK(cache.leader("t", 1) == b1.address());
    state->move_leader({"t", 0}, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past retry_backoff_min_ms
    CHECK(cache.maybe_refresh());  // stale partitions make it due
    CHECK(cache.leader("t", 0) == b2.address());
    CHECK(cache.leader_epoch("t", 0) == 1);
  }
  SECTION("invalidated partitions and elections") {
    cache.invalidate("t", 1);
    CHECK(cache.leader("t", 0) == b1.address());
    CHECK_FALSE(cache.leader("t", 1).has_value());
    state->move_leader({"t", 1}, -1);  // an election: no leader anywhere
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(cache.maybe_refresh());
    CHECK_FALSE(cache.leader("t", 1).has_value());
    state->move_leader({"t", 1}, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(cache.maybe_refresh());  // a leaderless partition keeps it due
    CHECK(cache.leader("t", 1) == b2.address());
    CHECK_FALSE(cache.maybe_refresh());  // nothing wanted now
  }
  CHECK(cache.partition_count("t") == 2);
}
