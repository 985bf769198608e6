// group_shard: delete group, delete offsets, offsets expiry, list, stats
// and replay of damaged records.
#include <catch2/catch.hpp>

#include "broker/group/group_shard.h"
#include "tests/broker/group/group_shard_harness.h"

namespace kappa::broker::group {
namespace {

using testing::converge;
using testing::harness;
using testing::member;

TEST_CASE("group_shard: delete_group refuses a group with members", "[group_shard][delete]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  member a{.topics = {"t"}};
  a.join(h, "g");
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 0, 10).error_code() == v1::NONE);
  records out;
  v1::DeleteGroupRequest r;
  r.set_group_id("g");
  CHECK(h.shard->delete_group(r, out).error_code() == v1::NON_EMPTY_GROUP);
  CHECK(out.empty());
  h.leave("g", a.id);
  auto ok = h.shard->delete_group(r, out);
  CHECK(ok.error_code() == v1::NONE);
  CHECK(out.size() == 2);  // the offset's tombstone and the group's
  h.log.insert(h.log.end(), out.begin(), out.end());
  CHECK(!h.shard->has_group("g"));
  CHECK(h.describe("g").error_code() == v1::GROUP_ID_NOT_FOUND);
  CHECK(h.committed("g", "t", 0) == -1);
  out.clear();
  CHECK(h.shard->delete_group(r, out).error_code() == v1::GROUP_ID_NOT_FOUND);
  CHECK(!h.replayed()->has_group("g"));
  h.check_replay_matches();
}

TEST_CASE("group_shard: delete_offsets refuses topics the group subscribes to",
          "[group_shard][delete]") {
  harness h;
  h.topics.partitions = {{"t", 2}, {"old", 3}};
  REQUIRE(h.commit("g", "", -1, "old", 0, 5).error_code() == v1::NONE);
  REQUIRE(h.commit("g", "", -1, "old", 2, 6).error_code() == v1::NONE);
  member a{.topics = {"t"}};
  a.join(h, "g");
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 1, 10).error_code() == v1::NONE);

  records out;
  v1::DeleteOffsetsRequest r;
  r.set_group_id("g");
  r.add_partitions()->set_topic("t");
  auto refused = h.shard->delete_offsets(r, out);
  CHECK(refused.error_code() == v1::GROUP_SUBSCRIBED_TO_TOPIC);
  REQUIRE(refused.topics_size() == 1);
  REQUIRE(refused.topics(0).partitions_size() == 1);
  CHECK(refused.topics(0).partitions(0).error_code() == v1::GROUP_SUBSCRIBED_TO_TOPIC);
  CHECK(out.empty());
  CHECK(h.committed("g", "t", 1) == 10);

  r.clear_partitions();
  r.add_partitions()->set_topic("old");  // every partition of it
  auto ok = h.shard->delete_offsets(r, out);
  CHECK(ok.error_code() == v1::NONE);
  REQUIRE(ok.topics(0).partitions_size() == 2);
  CHECK(out.size() == 2);
  h.log.insert(h.log.end(), out.begin(), out.end());
  CHECK(h.committed("g", "old", 0) == -1);
  CHECK(h.committed("g", "old", 2) == -1);

  v1::DeleteOffsetsRequest unknown;
  unknown.set_group_id("nope");
  CHECK(h.shard->delete_offsets(unknown, out).error_code() == v1::GROUP_ID_NOT_FOUND);
  h.check_replay_matches();
}

TEST_CASE("group_shard: offsets of an empty group expire after the retention",
          "[group_shard][expiry]") {
  harness h;  // retention 60 s
  h.topics.partitions = {{"t", 2}};
  member a{.topics = {"t"}};
  a.join(h, "g");
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 0, 10).error_code() == v1::NONE);
  // While the group has members nothing expires, however old.
  for (int i = 0; i < 10; ++i) {
    h.advance(9000);
    h.tick();
    converge(h, "g", {&a}, 1);
  }
  CHECK(h.committed("g", "t", 0) == 10);
  h.leave("g", a.id);
  h.advance(59000);
  h.tick();
  CHECK(h.committed("g", "t", 0) == 10);
  h.check_replay_matches();
  h.advance(2000);
  h.tick();
  CHECK(h.committed("g", "t", 0) == -1);
  // The group itself goes with its last offset.
  CHECK(!h.shard->has_group("g"));
  h.check_replay_matches();
  CHECK(!h.replayed()->has_group("g"));
}

TEST_CASE("group_shard: offsets of a deleted topic expire at once", "[group_shard][expiry]") {
  harness h;
  h.topics.partitions = {{"t", 2}, {"gone", 2}};
  member a{.topics = {"t"}};
  a.join(h, "g");
  REQUIRE(h.commit("g", a.id, a.epoch, "gone", 1, 3).error_code() == v1::NONE);
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 1, 4).error_code() == v1::NONE);
  // An empty view is metadata not known yet: nothing expires.
  topics_view saved = h.topics;
  const int32_t epoch = h.describe("g").group_epoch();
  h.topics.partitions.clear();
  h.advance(1000);
  h.tick();
  CHECK(h.committed("g", "gone", 1) == 3);
  CHECK(h.describe("g").group_epoch() == epoch);  // nor does the assignment move
  CHECK(a.beat(h, "g").error_code() == v1::NONE);
  CHECK(testing::count(a.owned) == 2);
  h.topics = saved;
  h.topics.partitions.erase("gone");
  h.advance(1000);  // expiry runs at most once a second
  h.tick();
  CHECK(h.committed("g", "gone", 1) == -1);
  CHECK(h.committed("g", "t", 1) == 4);
  h.check_replay_matches();
}

TEST_CASE("group_shard: an admin-created group expires from its commits", "[group_shard][expiry]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  REQUIRE(h.commit("simple", "", -1, "t", 0, 1).error_code() == v1::NONE);
  h.tick();
  h.advance(30000);
  REQUIRE(h.commit("simple", "", -1, "t", 1, 2).error_code() == v1::NONE);
  h.advance(31000);
  h.tick();
  CHECK(h.committed("simple", "t", 0) == -1);
  CHECK(h.committed("simple", "t", 1) == 2);
  h.advance(30000);
  h.tick();
  CHECK(h.committed("simple", "t", 1) == -1);
  h.check_replay_matches();
}

TEST_CASE("group_shard: list filters by state; stats count members and offsets", "[group_shard]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  member a{.topics = {"t"}};
  a.join(h, "busy");
  REQUIRE(h.commit("busy", a.id, a.epoch, "t", 1, 8).error_code() == v1::NONE);
  REQUIRE(h.commit("idle", "", -1, "t", 0, 3).error_code() == v1::NONE);

  v1::ListGroupsResponse all;
  h.shard->list({}, all);
  CHECK(all.groups_size() == 2);
  v1::ListGroupsRequest only_empty;
  only_empty.add_states("Empty");
  v1::ListGroupsResponse empty;
  h.shard->list(only_empty, empty);
  REQUIRE(empty.groups_size() == 1);
  CHECK(empty.groups(0).group_id() == "idle");

  auto stats = h.shard->stats();
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].group_id == "busy");
  CHECK(stats[0].state == "Stable");
  CHECK(stats[0].members == 1);
  CHECK(stats[0].rebalances == 1);
  CHECK(stats[0].committed.at({"t", 1}) == 8);
  CHECK(stats[1].members == 0);

  // describe lists committed and owned partitions, owners and metadata.
  auto d = h.describe("busy");
  REQUIRE(d.offsets_size() == 2);
  CHECK(d.offsets(0).committed_offset() == -1);
  CHECK(d.offsets(0).owner_member_id() == a.id);
  CHECK(d.offsets(1).committed_offset() == 8);
  CHECK(d.offsets(1).high_watermark() == -1);
  CHECK(d.offsets(1).lag() == -1);
}

TEST_CASE("group_shard: a damaged record is an error and the rest still replays",
          "[group_shard][replay]") {
  harness h;
  h.topics.partitions = {{"t", 2}};
  member a{.topics = {"t"}};
  a.join(h, "g");
  REQUIRE(h.commit("g", a.id, a.epoch, "t", 0, 10).error_code() == v1::NONE);
  group_shard s(h.options);
  CHECK(!s.replay("\xff\xff garbage", std::string_view("x")).ok());
  for (const auto& rec : h.log) {
    std::optional<std::string_view> v;
    if (rec.value) v = std::string_view(*rec.value);
    REQUIRE(s.replay(rec.key, v).ok());
  }
  // A value that does not parse under a good key.
  CHECK(!s.replay(h.log.front().key, std::string_view("\xff\xff\xff")).ok());
  s.loaded(h.now_ms);
  CHECK(s.has_group("g"));
}

}  // namespace
}  // namespace kappa::broker::group

namespace kappa::broker::group {
namespace {

TEST_CASE("group_shard: fetch_offsets returns what was committed, all or by partition",
          "[group_shard]") {
  harness h;
  h.topics.partitions = {{"a", 2}, {"b", 1}};
  REQUIRE(h.commit("g", "", -1, "b", 0, 30, "from b").error_code() == v1::NONE);
  REQUIRE(h.commit("g", "", -1, "a", 1, 11).error_code() == v1::NONE);
  v1::FetchOffsetsRequest all;
  all.set_group_id("g");
  auto r = h.shard->fetch_offsets(all);
  REQUIRE(r.topics_size() == 2);
  CHECK(r.topics(0).topic() == "a");
  REQUIRE(r.topics(0).partitions_size() == 1);
  CHECK(r.topics(0).partitions(0).partition() == 1);
  CHECK(r.topics(0).partitions(0).offset() == 11);
  CHECK(r.topics(0).partitions(0).leader_epoch() == 3);
  CHECK(r.topics(0).partitions(0).commit_timestamp_ms() == h.wall_ms);
  CHECK(r.topics(1).partitions(0).metadata() == "from b");
  v1::FetchOffsetsRequest some;
  some.set_group_id("g");
  auto* t = some.add_partitions();
  t->set_topic("a");
  t->add_partitions(0);
  t->add_partitions(1);
  auto s = h.shard->fetch_offsets(some);
  REQUIRE(s.topics(0).partitions_size() == 2);
  CHECK(s.topics(0).partitions(0).offset() == -1);
  CHECK(s.topics(0).partitions(0).error_code() == v1::NONE);
  CHECK(s.topics(0).partitions(1).offset() == 11);
  v1::FetchOffsetsRequest none;
  CHECK(h.shard->fetch_offsets(none).error_code() == v1::INVALID_GROUP_ID);
}

}  // namespace
}  // namespace kappa::broker::group
