// Lag in describe_group equals the partition's high watermark minus the
// group's committed offset, both read independently (ListOffsets and
// FetchOffsets), with a member that committed everything it processed.
#include <catch2/catch.hpp>

#include "tests/groups/group_env.h"

namespace kappa_groups {

TEST_CASE("describe_group's lag is the high watermark minus the committed offset", "[groups][process]") {
  group_env env(1);
  const std::string topic = "lag", group = "g-lag";
  constexpr int kPartitions = 3;
  env.topic(topic, kPartitions, 1);
  background_producer producer(env.bootstrap(), topic, kPartitions, 0);
  const int first[kPartitions] = {30, 20, 10};
  for (int p = 0; p < kPartitions; ++p) REQUIRE(producer.produce_now(p, first[p]));

  member_spec s;
  s.name = "m1";
  s.group = group;
  s.topics = {topic};
  s.commit_interval_ms = 200;
  auto m1 = env.member(s);
  std::vector<member_process*> all = {m1.get()};
  env.stable(group, 1, kPartitions, histories(all));
  if (!wait_until([&] { return check_nothing_skipped(histories(all), producer.produced()).empty(); }, 15000)) {
    env.fail("the member did not process every record", histories(all));
  }
  auto hw = high_watermarks(*env.admin, topic, kPartitions);
  REQUIRE(int(hw.size()) == kPartitions);
  // Once its periodic commit caught up, the active group's lag is 0.
  if (!wait_until([&] { return committed_offsets(histories(all), mono_ns()) == hw; }, 10000)) {
    env.fail("the member's commits did not reach the high watermarks", histories(all));
  }
  auto d = env.admin->describe_group(group);
  REQUIRE(d.ok());
  REQUIRE(int(d.value().offsets.size()) == kPartitions);
  for (const auto& o : d.value().offsets) {
    INFO(format_tp(o.tp));
    CHECK(o.high_watermark == hw.at(o.tp));
    CHECK(o.committed_offset == hw.at(o.tp));
    CHECK(o.lag == 0);
    CHECK(o.owner_member_id == d.value().members.at(0).member_id);
  }
  REQUIRE(m1->terminate());

  // More records after the group emptied: the lag is exactly what is new.
  const int more[kPartitions] = {5, 7, 0};
  for (int p = 0; p < kPartitions; ++p) {
    if (more[p] > 0) REQUIRE(producer.produce_now(p, more[p]));
  }
  hw = high_watermarks(*env.admin, topic, kPartitions);
  auto committed = env.admin->fetch_group_offsets(group);
  REQUIRE(committed.ok());
  d = env.admin->describe_group(group);
  REQUIRE(d.ok());
  CHECK(d.value().state == "Empty");
  REQUIRE(int(d.value().offsets.size()) == kPartitions);
  for (const auto& o : d.value().offsets) {
    INFO(format_tp(o.tp));
    REQUIRE(committed.value().count(o.tp) == 1);
    CHECK(o.committed_offset == committed.value().at(o.tp).offset);
    CHECK(o.high_watermark == hw.at(o.tp));
    CHECK(o.lag == o.high_watermark - o.committed_offset);
    CHECK(o.lag == more[o.tp.partition]);
    CHECK(o.owner_member_id.empty());
  }
}

}  // namespace kappa_groups
