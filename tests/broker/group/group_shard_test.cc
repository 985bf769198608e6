// group_shard: membership, reconciliation, commits and replay, driven
// request by request (the seeded simulation is group_shard_sim_test.cc).
#include "broker/group/group_shard.h"

#include <catch2/catch.hpp>

#include "tests/broker/group/group_shard_harness.h"

namespace kappa::broker::group {
namespace {

using testing::count;
using testing::harness;
using testing::to_set;

const std::vector<std::string> kT{"t"};

TEST_CASE("group_shard: a join gets a member id, epoch and every partition", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 4}, {"other", 2}};
  auto r = h.join("g", kT);
  REQUIRE(r.error_code() == v1::NONE);
  CHECK(!r.member_id().empty());
  CHECK(r.member_epoch() == 1);
  CHECK(r.heartbeat_interval_ms() == h.options.heartbeat_interval_ms);
  CHECK(to_set(r.assignment()) == partition_set{{"t", {0, 1, 2, 3}}});
  auto d = h.describe("g");
  CHECK(d.state() == "Stable");
  CHECK(d.assignor() == "uniform");
  CHECK(d.group_epoch() == 1);
  CHECK(d.assignment_epoch() == 1);
  REQUIRE(d.members_size() == 1);
  CHECK(d.members(0).state() == "Stable");
  // The next heartbeat changes nothing and emits nothing.
  size_t before = h.log.size();
  auto again = h.beat("g", r.member_id(), 1, to_set(r.assignment()), kT);
  CHECK(again.error_code() == v1::NONE);
  CHECK(again.member_epoch() == 1);
  CHECK(h.log.size() == before);
  h.check_replay_matches();
}

TEST_CASE("group_shard: a partition moves only after its owner revoked it", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  auto a = h.join("g", kT);
  partition_set a_owned = to_set(a.assignment());
  auto b = h.join("g", kT);
  REQUIRE(b.error_code() == v1::NONE);
  CHECK(b.member_epoch() == 2);
  // B waits: A still owns everything.
  CHECK(count(to_set(b.assignment())) == 0);
  CHECK(h.describe("g").state() == "Reconciling");

  // A is told to let go of two partitions, and keeps its epoch meanwhile.
  auto a2 = h.beat("g", a.member_id(), 1, a_owned, kT);
  REQUIRE(a2.error_code() == v1::NONE);
  CHECK(a2.member_epoch() == 1);
  partition_set a_kept = to_set(a2.assignment());
  CHECK(count(a_kept) == 2);
  // A revoking commits with its current epoch.
  CHECK(h.commit("g", a.member_id(), 1, "t", 0, 10).error_code() == v1::NONE);

  // Until A reports them released, B still gets nothing.
  auto b2 = h.beat("g", b.member_id(), 2, {}, kT);
  CHECK(count(to_set(b2.assignment())) == 0);
  auto during = h.describe("g");
  for (const auto& m : during.members()) {
    CHECK(m.state() == (m.member_id() == a.member_id() ? "Revoking" : "Waiting"));
  }

  // A released them: its epoch moves on; then B gets them.
  auto a3 = h.beat("g", a.member_id(), 1, a_kept, kT);
  CHECK(a3.member_epoch() == 2);
  CHECK(to_set(a3.assignment()) == a_kept);
  auto b3 = h.beat("g", b.member_id(), 2, {}, kT);
  partition_set b_owned = to_set(b3.assignment());
  CHECK(count(b_owned) == 2);
  CHECK(testing::count(a_kept) + count(b_owned) == 4);
  for (const auto& [topic, parts] : b_owned) {
    for (int32_t p : parts) CHECK(a_kept.at(topic).count(p) == 0);
  }
  CHECK(h.describe("g").state() == "Stable");
  h.check_replay_matches();
}

TEST_CASE("group_shard: a leave hands the partitions over at once", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 4}};
  auto a = h.join("g", kT);
  auto b = h.join("g", kT);
  auto a2 = h.beat("g", a.member_id(), 1, to_set(a.assignment()), kT);
  auto a3 = h.beat("g", a.member_id(), 1, to_set(a2.assignment()), kT);
  auto b2 = h.beat("g", b.member_id(), 2, {}, kT);
  REQUIRE(count(to_set(b2.assignment())) == 2);

  auto left = h.leave("g", a.member_id());
  CHECK(left.error_code() == v1::NONE);
  CHECK(left.member_epoch() == -1);
  auto b3 = h.beat("g", b.member_id(), 2, to_set(b2.assignment()), kT);
  CHECK(b3.member_epoch() == 3);
  CHECK(count(to_set(b3.assignment())) == 4);
  // Leaving again is not an error; the last leave empties the group.
  CHECK(h.leave("g", a.member_id()).error_code() == v1::NONE);
  CHECK(h.leave("g", b.member_id()).error_code() == v1::NONE);
  CHECK(h.describe("g").state() == "Empty");
  h.check_replay_matches();
}

TEST_CASE("group_shard: heartbeats from a wrong epoch or an unknown member are fenced",
          "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  auto a = h.join("g", kT);
  CHECK(h.beat("g", a.member_id(), 7, {}, kT).error_code() == v1::FENCED_MEMBER_EPOCH);
  CHECK(h.beat("g", "nobody", 1, {}, kT).error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(h.beat("nogroup", "nobody", 1, {}, kT).error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(h.join("", kT).error_code() == v1::INVALID_GROUP_ID);
  // A fenced member rejoins with epoch 0 and its old id: the old one goes.
  v1::GroupHeartbeatRequest r;
  r.set_group_id("g");
  r.set_member_id(a.member_id());
  r.set_member_epoch(0);
  r.add_subscribed_topics("t");
  auto again = h.heartbeat(r);
  REQUIRE(again.error_code() == v1::NONE);
  CHECK(again.member_id() != a.member_id());
  CHECK(h.describe("g").members_size() == 1);
}

TEST_CASE("group_shard: a lost response is forgiven when the member sends its previous epoch",
          "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  auto a = h.join("g", kT);
  auto b = h.join("g", kT);
  auto a2 = h.beat("g", a.member_id(), 1, to_set(a.assignment()), kT);
  auto a3 = h.beat("g", a.member_id(), 1, to_set(a2.assignment()), kT);
  REQUIRE(a3.member_epoch() == 2);
  // a3 was lost: A still says epoch 1, owning what it kept.
  auto a4 = h.beat("g", a.member_id(), 1, to_set(a2.assignment()), kT);
  CHECK(a4.error_code() == v1::NONE);
  CHECK(a4.member_epoch() == 2);
  // But not with more than it may own.
  auto a5 = h.beat("g", a.member_id(), 1, partition_set{{"t", {0, 1}}}, kT);
  CHECK(a5.error_code() == v1::FENCED_MEMBER_EPOCH);
  (void)b;
}

TEST_CASE("group_shard: commits carry the member's current epoch", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  auto a = h.join("g", kT);
  CHECK(h.commit("g", a.member_id(), 1, "t", 0, 42, "meta").error_code() == v1::NONE);
  CHECK(h.committed("g", "t", 0) == 42);
  CHECK(h.committed("g", "t", 1) == -1);
  CHECK(h.committed("unknown", "t", 1) == -1);

  auto stale = h.commit("g", a.member_id(), 0, "t", 0, 50);
  CHECK(stale.error_code() == v1::STALE_MEMBER_EPOCH);
  auto zombie = h.commit("g", "gone", 1, "t", 0, 60);
  CHECK(zombie.error_code() == v1::UNKNOWN_MEMBER_ID);
  auto admin = h.commit("g", "", -1, "t", 0, 0);
  CHECK(admin.error_code() == v1::NON_EMPTY_GROUP);
  CHECK(h.committed("g", "t", 0) == 42);

  // Per partition errors: unknown partition, bad offset, metadata too large.
  auto bad = h.commit("g", a.member_id(), 1, "t", 5, 1);
  REQUIRE(bad.topics_size() == 1);
  CHECK(bad.topics(0).partitions(0).error_code() == v1::UNKNOWN_TOPIC_OR_PARTITION);
  CHECK(h.commit("g", a.member_id(), 1, "t", 1, -3).topics(0).partitions(0).error_code() ==
        v1::INVALID_REQUEST);
  CHECK(h.commit("g", a.member_id(), 1, "t", 1, 1, std::string(5000, 'x'))
            .topics(0)
            .partitions(0)
            .error_code() == v1::OFFSET_METADATA_TOO_LARGE);

  // Once the group is empty an admin may commit; a commit creates a group.
  h.leave("g", a.member_id());
  CHECK(h.commit("g", "", -1, "t", 0, 7).error_code() == v1::NONE);
  CHECK(h.committed("g", "t", 0) == 7);
  CHECK(h.commit("fresh", "", -1, "t", 1, 9).error_code() == v1::NONE);
  CHECK(h.shard->has_group("fresh"));
  CHECK(h.describe("fresh").state() == "Empty");
  h.check_replay_matches();
}

TEST_CASE("group_shard: partition_for_group is Java's String.hashCode mod n", "[group_shard]") {
  CHECK(partition_for_group("", 16) == 0);
  CHECK(partition_for_group("a", 16) == 97 % 16);
  // "ab".hashCode() = 97 * 31 + 98 = 3105
  CHECK(partition_for_group("ab", 50) == 3105 % 50);
  // Its hashCode is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
  CHECK(partition_for_group("polygenelubricants", 16) == 0);
  // "hello world".hashCode() = 1794106052
  CHECK(partition_for_group("hello world", 50) == 1794106052 % 50);
  // A negative hash: "my-group".hashCode() = -1906497762.
  CHECK(partition_for_group("my-group", 7) == 1906497762 % 7);
}

}  // namespace
}  // namespace kappa::broker::group

namespace kappa::broker::group {
namespace {

TEST_CASE("group_shard: a new coordinator continues a reconciliation from the records",
          "[group_shard][replay]") {
  testing::harness h;
  h.topics.partitions = {{"t", 4}};
  testing::member a{.topics = {"t"}};
  testing::member b{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  a.beat(h, "g");  // a is told to revoke two partitions
  REQUIRE(h.describe("g").state() == "Reconciling");
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 0, 5).error_code() == v1::NONE);

  // Failover: the new coordinator rebuilds from the records; sessions restart
  // at loaded().
  h.advance(9000);
  const int32_t epoch = h.describe("g").group_epoch();
  h.shard = h.replayed();
  h.check_replay_matches();
  h.advance(5000);
  h.tick();
  REQUIRE(h.describe("g").members_size() == 2);
  CHECK(h.describe("g").group_epoch() == epoch);  // same topics: no rebalance
  CHECK(h.committed("g", "t", 0) == 5);
  testing::converge(h, "g", {&a, &b});
  CHECK(h.describe("g").state() == "Stable");
  CHECK(testing::count(a.owned) == 2);
  CHECK(testing::count(b.owned) == 2);
  // Sessions count from loaded(): silence for the session timeout removes.
  h.advance(10000);
  h.tick();
  CHECK(h.describe("g").members_size() == 0);
  CHECK(h.describe("g").state() == "Empty");
}

}  // namespace
}  // namespace kappa::broker::group

namespace kappa::broker::group {
namespace {

TEST_CASE("group_shard: partitions being revoked that the target gives back stay",
          "[group_shard][sticky]") {
  testing::harness h;
  h.topics.partitions = {{"t", 4}};
  testing::member a{.topics = {"t"}};
  testing::member b{.topics = {"t"}};
  a.join(h, "g");
  b.join(h, "g");
  const partition_set all = a.owned;
  // a is told to let go of two, but has not yet when b leaves again.
  auto told = h.beat("g", a.id, a.epoch, all, {"t"});
  REQUIRE(testing::count(testing::to_set(told.assignment())) == 2);
  REQUIRE(h.leave("g", b.id).error_code() == v1::NONE);
  auto back = h.beat("g", a.id, a.epoch, all, {"t"});
  CHECK(testing::to_set(back.assignment()) == all);
  CHECK(back.member_epoch() == h.describe("g").assignment_epoch());
  CHECK(h.describe("g").state() == "Stable");
  h.check_replay_matches();
}

}  // namespace
}  // namespace kappa::broker::group
