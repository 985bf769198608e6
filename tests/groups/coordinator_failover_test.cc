// Consumer groups over real processes: the coordinator's broker is SIGKILLed
// while a group of two member processes consumes from a three-broker
// cluster; the group carries on under the new coordinator (the new leader of
// the group's __consumer_offsets partition).
#include <catch2/catch.hpp>

#include <optional>
#include <set>

#include "tests/groups/group_env.h"

namespace kappa_groups {

TEST_CASE("the coordinator's broker is SIGKILLed mid-group and the group carries on", "[groups][process][cluster]") {
  group_env env(3);
  const std::string topic = "failover", group = "g-failover";
  constexpr int kPartitions = 4;
  env.topic(topic, kPartitions, 3);
  // __consumer_offsets must have three replicas for the group to survive a
  // broker: created (by a FindCoordinator) once every broker sees all three.
  env.wait_all_live();
  (void)env.admin->describe_group("warm-up");
  std::vector<size_t> replicas;
  wait_until(
      [&] {
        replicas = env.offsets_topic_replicas();
        return !replicas.empty();
      },
      10000);
  for (size_t r : replicas) {
    if (r != 3) env.fail("__consumer_offsets was created with " + std::to_string(r) + " replicas, not 3", {});
  }
  if (replicas.empty()) env.fail("__consumer_offsets was not created by a FindCoordinator", {});
  background_producer producer(env.bootstrap(), topic, kPartitions, 200);

  auto make = [&](const std::string& name) {
    member_spec s;
    s.name = name;
    s.group = group;
    s.topics = {topic};
    // Longer than a coordinator failover, so the move itself fences nobody.
    s.session_timeout_ms = 15000;
    s.commit_interval_ms = 300;
    return env.member(s);
  };
  auto m1 = make("m1");
  auto m2 = make("m2");
  std::vector<member_process*> all = {m1.get(), m2.get()};
  const auto before = env.stable(group, 2, kPartitions, histories(all), 30000);
  const int32_t coordinator = before.coordinator_id;
  if (coordinator < 1 || coordinator > 3) env.fail("describe_group names no coordinator: " + summarize(before), {});
  // Before the kill every partition has a commit and both members are
  // processing and committing what they own.
  if (!wait_until(
          [&] {
            const auto logs = histories(all);
            for (const auto& h : logs) {
              if (committed_offsets({h}, mono_ns()).empty()) return false;
            }
            return int(committed_offsets(logs, mono_ns()).size()) == kPartitions;
          },
          15000)) {
    env.fail("not both members committed, or not every partition, before the kill", histories(all));
  }

  const int64_t killed_at = mono_ns();
  env.cluster.kill(coordinator);

  // Commits resume (each member's first successful commit after the kill)
  // and consumption continues: records acknowledged after the kill are
  // processed.
  auto commits_after = [&](const member_history& h) {
    std::set<int64_t> begun_after;
    for (const auto& e : h.log.events) {
      if (e.kind == event_kind::commit_begin && e.ts_ns > killed_at) begun_after.insert(e.seq);
    }
    int n = 0;
    for (const auto& e : h.log.events) n += (e.kind == event_kind::commit_ok && begun_after.count(e.seq)) ? 1 : 0;
    return n;
  };
  if (!wait_until(
          [&] {
            for (const auto& h : histories(all)) {
              if (commits_after(h) == 0) return false;
            }
            return true;
          },
          30000)) {
    env.fail("commits did not resume within 30 s of killing coordinator broker " + std::to_string(coordinator),
             histories(all));
  }
  std::string last;
  std::optional<kappa::group_description> after;
  wait_until(
      [&] {
        after = wait_group_stable(*env.admin, group, 2, kPartitions, 1000, &last);
        return after && after->coordinator_id != coordinator;
      },
      30000);
  if (!after || after->coordinator_id == coordinator) {
    env.fail("no Stable group under a new coordinator within 30 s; last seen: " + last, histories(all));
  }

  producer.stop();
  if (!wait_until([&] { return check_nothing_skipped(histories(all), producer.produced()).empty(); }, 20000)) {
    const auto logs = histories(all);
    env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  }
  {
    // Records acknowledged after the kill were among those processed.
    int64_t late = 0;
    for (const auto& h : histories(all)) {
      for (const auto& e : h.log.events) late += (e.kind == event_kind::record && e.ts_ns > killed_at) ? 1 : 0;
    }
    CHECK(late > 0);
  }
  CHECK(m1->terminate());
  CHECK(m2->terminate());

  const auto logs = histories(all);
  std::vector<std::string> problems;
  const auto intervals = ownership_intervals(logs, mono_ns(), problems);
  env.require_none("member logs inconsistent", problems, logs);
  env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  env.require_none("a partition had two owners at once", check_single_owner(intervals), logs);
  env.require_none("a record was processed again although its offset was committed",
                   check_duplicates_uncommitted(logs, intervals), logs);
  // The new coordinator has the final commits.
  auto committed = env.admin->fetch_group_offsets(group);
  REQUIRE(committed.ok());
  const auto from_logs = committed_offsets(logs, mono_ns());
  for (const auto& [tp, off] : from_logs) {
    INFO(format_tp(tp));
    REQUIRE(committed.value().count(tp) == 1);
    CHECK(committed.value().at(tp).offset == off);
  }
}

}  // namespace kappa_groups
