// group_shard: static membership, session and rebalance timeouts,
// subscriptions by pattern, topics that appear, grow or go, assignor and
// timeout validation, stickiness on a join.
#include <catch2/catch.hpp>

#include "broker/group/group_shard.h"
#include "tests/broker/group/group_shard_harness.h"

namespace kappa::broker::group {
namespace {

using testing::converge;
using testing::count;
using testing::harness;
using testing::member;
using testing::to_set;

TEST_CASE("group_shard: a static member restarts without a rebalance", "[group_shard][static]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  member a{.topics = {"t"}, .instance_id = "host-a"};
  member b{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  converge(h, "g", {&a, &b});
  REQUIRE(h.describe("g").state() == "Stable");
  const partition_set a_had = a.owned;
  REQUIRE(count(a_had) == 2);
  const int32_t group_epoch = h.describe("g").group_epoch();

  // -2: a leaves for a while; its partitions stay reserved for it.
  auto left = h.leave("g", a.id, -2);
  REQUIRE(left.error_code() == v1::NONE);
  CHECK(left.member_epoch() == -2);
  h.advance(5000);
  h.tick();
  converge(h, "g", {&b});
  CHECK(count(b.owned) == 2);
  auto d = h.describe("g");
  CHECK(d.group_epoch() == group_epoch);
  CHECK(d.members_size() == 2);

  // Its old member id is no longer valid; a new process with the same
  // instance id takes over the same assignment and epoch.
  const std::string old_id = a.id;
  auto back = h.join("g", {"t"}, "host-a");
  REQUIRE(back.error_code() == v1::NONE);
  CHECK(back.member_id() != old_id);
  CHECK(back.member_epoch() == a.epoch);
  CHECK(to_set(back.assignment()) == a_had);
  CHECK(h.describe("g").group_epoch() == group_epoch);
  CHECK(h.describe("g").rebalances() == d.rebalances());
  CHECK(h.beat("g", old_id, a.epoch, {}, {"t"}, "host-a").error_code() == v1::FENCED_INSTANCE_ID);
  CHECK(h.commit("g", old_id, a.epoch, "t", 0, 1).error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(h.commit("g", back.member_id(), back.member_epoch(), "t", 0, 1).error_code() == v1::NONE);
  h.check_replay_matches();
}

TEST_CASE("group_shard: an instance id held by an active member is not released",
          "[group_shard][static]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  member a{.topics = {"t"}, .instance_id = "host-a"};
  a.join(h, "g");
  CHECK(h.join("g", {"t"}, "host-a").error_code() == v1::UNRELEASED_INSTANCE_ID);
  // Its session runs out (a crash without -2): then the instance id is free.
  h.advance(10000);
  h.tick();
  CHECK(h.describe("g").members_size() == 0);
  auto again = h.join("g", {"t"}, "host-a");
  CHECK(again.error_code() == v1::NONE);
  CHECK(count(to_set(again.assignment())) == 2);
}

TEST_CASE("group_shard: a static member away past its session timeout is removed",
          "[group_shard][static]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  member a{.topics = {"t"}, .instance_id = "host-a"};
  member b{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  converge(h, "g", {&a, &b});
  REQUIRE(h.leave("g", a.id, -2).error_code() == v1::NONE);
  for (int i = 0; i < 11; ++i) {
    h.advance(1000);
    h.tick();
    converge(h, "g", {&b}, 2);
  }
  CHECK(count(b.owned) == 4);
  CHECK(h.describe("g").members_size() == 1);
  // A dynamic member cannot leave "for a while".
  CHECK(h.leave("g", b.id, -2).error_code() == v1::INVALID_REQUEST);
  h.check_replay_matches();
}

TEST_CASE("group_shard: a member without heartbeats for its session timeout is removed",
          "[group_shard][timeout]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  member a{.topics = {"t"}};
  member b{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  converge(h, "g", {&a, &b});
  // b heartbeats every 2 s for 30 s; a stops (processing time is not a
  // heartbeat gap in a real client: it heartbeats from its own thread).
  for (int i = 0; i < 15; ++i) {
    h.advance(2000);
    h.tick();
    converge(h, "g", {&b}, 1);
  }
  auto d = h.describe("g");
  REQUIRE(d.members_size() == 1);
  CHECK(d.members(0).member_id() == b.id);
  CHECK(count(b.owned) == 4);
  // a is a zombie now: its heartbeats and commits are refused.
  CHECK(a.beat(h, "g").error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(h.commit("g", a.id, a.epoch, "t", 0, 5).error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(h.committed("g", "t", 0) == -1);
}

TEST_CASE("group_shard: a member slower than its rebalance timeout to revoke is fenced",
          "[group_shard][timeout]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  member a{.topics = {"t"}};
  a.join(h, "g");
  member b{.topics = {"t"}};
  b.join(h, "g");
  // a heartbeats but never lets go of what it was told to revoke.
  const partition_set held = a.owned;
  for (int i = 0; i < 12; ++i) {
    h.advance(1000);
    h.tick();
    auto r = h.beat("g", a.id, 1, held, {"t"});
    if (r.error_code() != v1::NONE) {
      CHECK(i >= 9);
      CHECK(r.error_code() == v1::UNKNOWN_MEMBER_ID);
      break;
    }
    CHECK(count(to_set(r.assignment())) == 2);
    b.beat(h, "g");
    CHECK(count(b.owned) == 0);  // never both
  }
  CHECK(h.describe("g").members_size() == 1);
  b.beat(h, "g");
  CHECK(count(b.owned) == 4);
}

TEST_CASE("group_shard: pattern subscriptions follow topics as they appear",
          "[group_shard][topics]") {
  harness h;
  h.topics.partitions = {
      {"orders-eu", 2}, {"orders-us", 1}, {"payments", 3}, {"orders-eu-archive", 1}};
  member a{.pattern = "orders-[a-z]{2}"};
  a.join(h, "g");
  CHECK(a.owned == partition_set{{"orders-eu", {0, 1}}, {"orders-us", {0}}});
  // An internal topic never matches a pattern, even ".*".
  member b{.pattern = ".*"};
  h.topics.partitions["__consumer_offsets"] = 16;
  b.join(h, "g2");
  CHECK(b.owned.count("__consumer_offsets") == 0);
  CHECK(count(b.owned) == 7);
  h.topics.partitions.erase("__consumer_offsets");

  // A new matching topic is picked up by tick().
  h.topics.partitions["orders-jp"] = 2;
  const int32_t epoch = h.describe("g").group_epoch();
  h.tick();
  CHECK(h.describe("g").group_epoch() == epoch + 1);
  a.beat(h, "g");
  CHECK(a.owned.at("orders-jp") == std::set<int32_t>{0, 1});
  // A topic grows.
  h.topics.partitions["orders-us"] = 3;
  a.beat(h, "g");  // a heartbeat sees it too
  CHECK(a.owned.at("orders-us") == std::set<int32_t>{0, 1, 2});
  // A topic goes: it is revoked like any move.
  h.topics.partitions.erase("orders-eu");
  a.beat(h, "g");
  CHECK(a.owned.count("orders-eu") == 0);
  a.beat(h, "g");
  CHECK(h.describe("g").state() == "Stable");
  // Nothing changes: no new epoch.
  const int32_t settled = h.describe("g").group_epoch();
  h.tick();
  a.beat(h, "g");
  CHECK(h.describe("g").group_epoch() == settled);
  // A malformed pattern.
  CHECK(h.join("g", {}, "", "orders-(").error_code() == v1::INVALID_REQUEST);
  CHECK(h.join("g", {}, "", std::string(2000, 'a')).error_code() == v1::INVALID_REQUEST);
  h.check_replay_matches();
}

TEST_CASE("group_shard: a subscription change moves partitions", "[group_shard][topics]") {
  harness h;
  h.topics.partitions = {{"a", 2}, {"b", 2}};
  member m{.topics = {"a"}};
  m.join(h, "g");
  CHECK(m.owned == partition_set{{"a", {0, 1}}});
  m.topics = {"b"};
  m.beat(h, "g");  // told to let go of a
  CHECK(count(m.owned) == 0);
  m.beat(h, "g");  // then gets b
  CHECK(m.owned == partition_set{{"b", {0, 1}}});
}

TEST_CASE("group_shard: joins are validated", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  v1::GroupHeartbeatRequest r;
  r.set_group_id("g");
  r.set_member_epoch(0);
  r.add_subscribed_topics("t");
  r.set_assignor("round-robin");
  CHECK(h.heartbeat(r).error_code() == v1::UNSUPPORTED_ASSIGNOR);
  r.set_assignor("range");
  REQUIRE(h.heartbeat(r).error_code() == v1::NONE);
  CHECK(h.describe("g").assignor() == "range");
  r.set_assignor("uniform");
  CHECK(h.heartbeat(r).error_code() == v1::UNSUPPORTED_ASSIGNOR);
  r.set_assignor("");
  CHECK(h.heartbeat(r).error_code() == v1::NONE);  // no preference: the group's
  r.set_session_timeout_ms(10);
  CHECK(h.heartbeat(r).error_code() == v1::INVALID_SESSION_TIMEOUT);
  r.set_session_timeout_ms(0);
  r.set_rebalance_timeout_ms(-5);
  CHECK(h.heartbeat(r).error_code() == v1::INVALID_REQUEST);
  r.set_member_epoch(-3);
  CHECK(h.heartbeat(r).error_code() == v1::INVALID_REQUEST);

  shard_options small = harness::test_options();
  small.max_group_size = 2;
  harness h2(small);
  h2.topics.partitions = {{"t", 2}};
  CHECK(h2.join("g", {"t"}).error_code() == v1::NONE);
  CHECK(h2.join("g", {"t"}).error_code() == v1::NONE);
  CHECK(h2.join("g", {"t"}).error_code() == v1::GROUP_MAX_SIZE_REACHED);
}

TEST_CASE("group_shard: a join into a stable group moves only what balance needs",
          "[group_shard][sticky]") {
  harness h;
  h.topics.partitions = {{"t", 12}};
  member a{.topics = {"t"}}, b{.topics = {"t"}}, c{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  c.join(h, "g");
  converge(h, "g", {&a, &b, &c});
  REQUIRE(h.describe("g").state() == "Stable");
  const partition_set before_a = a.owned, before_b = b.owned, before_c = c.owned;
  member d{.topics = {"t"}};
  d.join(h, "g");
  converge(h, "g", {&a, &b, &c, &d});
  CHECK(h.describe("g").state() == "Stable");
  // Each old member gave up exactly one partition and kept the rest.
  for (auto [now, before] :
       {std::pair{&a.owned, &before_a}, {&b.owned, &before_b}, {&c.owned, &before_c}}) {
    CHECK(count(*now) == 3);
    CHECK(testing::count(*before) == 4);
    for (const auto& [topic, parts] : *now) {
      for (int32_t p : parts) CHECK(before->at(topic).count(p) == 1);
    }
  }
  CHECK(count(d.owned) == 3);
}

}  // namespace
}  // namespace kappa::broker::group

namespace kappa::broker::group {
namespace {

TEST_CASE("group_shard: 200 members over 1,000 partitions settle in a few rounds",
          "[group_shard][scale]") {
  testing::harness h;
  h.topics.partitions = {{"big", 1000}};
  std::vector<testing::member> members(200);
  std::vector<testing::member*> all;
  for (auto& m : members) {
    m.topics = {"big"};
    m.join(h, "g");
    all.push_back(&m);
  }
  int rounds = 0;
  while (h.describe("g").state() != "Stable" && rounds < 10) {
    testing::converge(h, "g", all, 1);
    ++rounds;
  }
  CHECK(rounds <= 3);
  CHECK(h.describe("g").state() == "Stable");
  for (const auto& m : members) CHECK(testing::count(m.owned) == 5);
  // One more member: only 4-5 partitions move.
  testing::member extra{.topics = {"big"}};
  extra.join(h, "g");
  all.push_back(&extra);
  testing::converge(h, "g", all, 3);
  CHECK(h.describe("g").state() == "Stable");
  CHECK(testing::count(extra.owned) >= 4);
}

}  // namespace
}  // namespace kappa::broker::group
