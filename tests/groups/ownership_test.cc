// Consumer groups over real processes: one kappad, members that are
// group_member processes joining, leaving (SIGTERM) and dying (SIGKILL)
// while a producer writes. What each member owned and processed comes from
// its own log (tests/groups/member_log.h), never from the coordinator.
#include <catch2/catch.hpp>

#include "tests/groups/group_env.h"

namespace kappa_groups {
namespace {

constexpr int32_t kSessionMs = 3000;

member_spec spec(const std::string& name, const std::string& group, const std::string& topic) {
  member_spec s;
  s.name = name;
  s.group = group;
  s.topics = {topic};
  s.session_timeout_ms = kSessionMs;
  s.commit_interval_ms = 300;
  s.process_us_per_record = 1000;  // processing overlaps the rebalances
  return s;
}

// Waits until every produced record was processed by some member.
bool drained(const background_producer& producer, const std::vector<member_process*>& members,
             int64_t timeout_ms) {
  return wait_until(
      [&] { return check_nothing_skipped(histories(members), producer.produced()).empty(); }, timeout_ms);
}

}  // namespace

TEST_CASE("each partition has at most one owner while members join and leave and one is SIGKILLed", "[groups][process]") {
  group_env env(1);
  const std::string topic = "owners", group = "g-owners";
  constexpr int kPartitions = 6;
  env.topic(topic, kPartitions, 1);
  background_producer producer(env.bootstrap(), topic, kPartitions, 300);

  auto m1 = env.member(spec("m1", group, topic));
  auto m2 = env.member(spec("m2", group, topic));
  std::vector<member_process*> all = {m1.get(), m2.get()};
  env.stable(group, 2, kPartitions, histories(all));
  auto m3 = env.member(spec("m3", group, topic));
  all.push_back(m3.get());
  env.stable(group, 3, kPartitions, histories(all));
  if (!m1->terminate()) env.fail("m1 did not exit cleanly on SIGTERM", histories(all));
  env.stable(group, 2, kPartitions, histories(all));
  auto m4 = env.member(spec("m4", group, topic));
  all.push_back(m4.get());
  env.stable(group, 3, kPartitions, histories(all));
  m2->kill();  // its partitions move once its 3 s session expires
  env.stable(group, 2, kPartitions, histories(all), 20000);
  auto m5 = env.member(spec("m5", group, topic));
  all.push_back(m5.get());
  env.stable(group, 3, kPartitions, histories(all));

  producer.stop();
  if (!drained(producer, all, 20000)) env.fail("members did not process every record within 20 s", histories(all));
  for (auto* m : {m3.get(), m4.get(), m5.get()}) {
    if (!m->terminate()) env.fail(m->name() + " did not exit cleanly on SIGTERM", histories(all));
  }

  const auto logs = histories(all);
  std::vector<std::string> problems;
  const auto intervals = ownership_intervals(logs, mono_ns(), problems);
  env.require_none("member logs inconsistent", problems, logs);
  env.require_none("a partition had two owners at once", check_single_owner(intervals), logs);
  env.require_none("a record was processed by a member that did not own it", check_records_owned(logs, intervals),
                   logs);
  env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  env.require_none("a record was processed again although its offset was committed",
                   check_duplicates_uncommitted(logs, intervals), logs);
  // The churn really moved partitions: every member owned something, and
  // every partition changed hands at least once.
  for (const auto& h : logs) {
    bool owned = false;
    for (const auto& e : h.log.events) owned = owned || (e.kind == event_kind::assigned && !e.partitions.empty());
    if (!owned) env.fail(h.log.name + " never owned a partition", logs);
  }
  REQUIRE(int(intervals.size()) == kPartitions);
  int moved = 0;
  for (const auto& [tp, list] : intervals) moved += list.size() > 1 ? 1 : 0;
  CHECK(moved == kPartitions);
  CHECK(producer.failed() == 0);
}

TEST_CASE("commit after processing skips nothing across rebalances and repeats only uncommitted records",
          "[groups][process]") {
  group_env env(1);
  const std::string topic = "delivery", group = "g-delivery";
  constexpr int kPartitions = 4;
  env.topic(topic, kPartitions, 1);
  background_producer producer(env.bootstrap(), topic, kPartitions, 400);

  auto m1 = env.member(spec("m1", group, topic));
  auto m2 = env.member(spec("m2", group, topic));
  std::vector<member_process*> all = {m1.get(), m2.get()};
  env.stable(group, 2, kPartitions, histories(all));
  auto m3 = env.member(spec("m3", group, topic));
  all.push_back(m3.get());
  env.stable(group, 3, kPartitions, histories(all));
  if (!m1->terminate()) env.fail("m1 did not exit cleanly on SIGTERM", histories(all));
  env.stable(group, 2, kPartitions, histories(all));
  m2->kill();  // whatever it processed after its last commit is processed again
  env.stable(group, 1, kPartitions, histories(all), 20000);
  auto m4 = env.member(spec("m4", group, topic));
  all.push_back(m4.get());
  env.stable(group, 2, kPartitions, histories(all));

  producer.stop();
  if (!drained(producer, all, 20000)) {
    const auto logs = histories(all);
    env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  }
  for (auto* m : {m3.get(), m4.get()}) {
    if (!m->terminate()) env.fail(m->name() + " did not exit cleanly on SIGTERM", histories(all));
  }

  const auto logs = histories(all);
  std::vector<std::string> problems;
  const auto intervals = ownership_intervals(logs, mono_ns(), problems);
  env.require_none("member logs inconsistent", problems, logs);
  env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  env.require_none("a record was processed again although its offset was committed",
                   check_duplicates_uncommitted(logs, intervals), logs);
  env.require_none("a record was processed by a member that did not own it", check_records_owned(logs, intervals),
                   logs);
  // The last owners committed on their way out (on_revoked): the group's
  // offsets are the logs' ends.
  auto committed = env.admin->fetch_group_offsets(group);
  REQUIRE(committed.ok());
  const auto hw = high_watermarks(*env.admin, topic, kPartitions);
  for (const auto& [tp, offsets] : producer.produced()) {
    INFO(format_tp(tp));
    REQUIRE(committed.value().count(tp) == 1);
    CHECK(committed.value().at(tp).offset == *offsets.rbegin() + 1);
    CHECK(committed.value().at(tp).offset == hw.at(tp));
  }
  UNSCOPED_INFO("records processed twice (m2's uncommitted window): " << count_duplicates(logs));
  CHECK(producer.failed() == 0);
}

}  // namespace kappa_groups
