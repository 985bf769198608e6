// Consumer groups over real processes: a zombie member (SIGSTOPped past its
// session timeout) is fenced, and a static member (group_instance_id)
// restarted within its session timeout takes its partitions back without a
// rebalance.
#include <catch2/catch.hpp>

#include <optional>
#include <set>

#include "tests/groups/group_env.h"

namespace kappa_groups {
namespace {

size_t count_kind(const member_log& log, event_kind kind, int64_t after_ns = 0) {
  size_t n = 0;
  for (const auto& e : log.events) n += (e.kind == kind && e.ts_ns > after_ns) ? 1 : 0;
  return n;
}

// The partitions a member's log says it owns at the end of the log.
std::set<kappa::topic_partition> owned_at_end(const member_log& log) {
  std::set<kappa::topic_partition> owned;
  for (const auto& e : log.events) {
    if (e.kind == event_kind::assigned) owned.insert(e.partitions.begin(), e.partitions.end());
    if (e.kind == event_kind::revoked || e.kind == event_kind::lost) {
      for (const auto& tp : e.partitions) owned.erase(tp);
    }
  }
  return owned;
}

}  // namespace

TEST_CASE("a zombie's commit is rejected after its session expired and it rejoins", "[groups][process]") {
  group_env env(1);
  const std::string topic = "zombie", group = "g-zombie";
  constexpr int kPartitions = 2;
  env.topic(topic, kPartitions, 1);
  background_producer producer(env.bootstrap(), topic, kPartitions, 100);

  // The zombie spends its time "processing" (1 s per poll of at most 20
  // records) and commits right after, so a SIGSTOP lands in the processing
  // and its next act after SIGCONT is a commit from the membership it lost.
  member_spec zs;
  zs.name = "zombie";
  zs.group = group;
  zs.topics = {topic};
  zs.session_timeout_ms = 3000;
  zs.process_ms_per_poll = 1000;
  zs.max_poll_records = 20;
  member_spec bs = zs;
  bs.name = "survivor";
  bs.process_ms_per_poll = 0;
  bs.max_poll_records = 500;
  auto zombie = env.member(zs);
  auto survivor = env.member(bs);
  std::vector<member_process*> all = {zombie.get(), survivor.get()};
  env.stable(group, 2, kPartitions, histories(all));

  // Stop it right after a poll handed it records (it is then in its 1 s sleep).
  const size_t batches = count_kind(zombie->log(), event_kind::batch);
  if (!wait_until([&] { return count_kind(zombie->log(), event_kind::batch) > batches; }, 10000)) {
    env.fail("the zombie-to-be processed nothing within 10 s", histories(all));
  }
  const int64_t stopped_at = zombie->pause();
  std::string last;
  auto alone = wait_group_stable(*env.admin, group, 1, kPartitions, 20000, &last);
  if (!alone) env.fail("the survivor did not take every partition within 20 s; last seen: " + last, histories(all));
  // The survivor's own log shows it took them (its on_assigned ran) before
  // the zombie wakes up.
  if (!wait_until([&] { return owned_at_end(survivor->log()).size() == size_t(kPartitions); }, 10000)) {
    env.fail("the survivor's log does not show every partition", histories(all));
  }
  const int64_t resumed_at = zombie->resume();

  // Its first commit begun after SIGCONT fails with a fencing error.
  std::optional<log_event> verdict;
  wait_until(
      [&] {
        const member_log log = zombie->log();
        int64_t seq = -1;
        for (const auto& e : log.events) {
          if (e.kind == event_kind::commit_begin && e.ts_ns > resumed_at && seq < 0) seq = e.seq;
          if ((e.kind == event_kind::commit_ok || e.kind == event_kind::commit_fail) && e.seq == seq) {
            verdict = e;
            return true;
          }
        }
        return false;
      },
      10000);
  if (!verdict) env.fail("the zombie attempted no commit within 10 s of SIGCONT", histories(all));
  const std::set<int> fencing = {int(kappa::client_errc::unknown_member_id),
                                 int(kappa::client_errc::fenced_member_epoch),
                                 int(kappa::client_errc::stale_member_epoch)};
  if (verdict->kind != event_kind::commit_fail || !fencing.count(verdict->code)) {
    env.fail("the zombie's first commit after SIGCONT was not rejected as fenced: " + describe(*verdict),
             histories(all));
  }

  // It learns it lost its partitions (on_lost) and rejoins.
  if (!wait_until([&] { return count_kind(zombie->log(), event_kind::lost, resumed_at) > 0; }, 10000)) {
    env.fail("the zombie never reported its partitions lost", histories(all));
  }
  env.stable(group, 2, kPartitions, histories(all));
  CHECK(wait_until([&] { return count_kind(zombie->log(), event_kind::assigned, resumed_at) > 0; }, 10000));

  // While it was stopped the survivor owned everything.
  const auto logs = histories(all);
  std::vector<std::string> problems;
  const auto intervals = ownership_intervals(logs, mono_ns(), problems);
  for (const auto& [tp, list] : intervals) {
    bool covered = false;
    for (const auto& iv : list) {
      covered = covered || (iv.member == "survivor" && iv.start_ns > stopped_at && iv.start_ns < resumed_at) ||
                (iv.member == "survivor" && iv.start_ns < stopped_at && iv.end_ns > resumed_at);
    }
    INFO(format_tp(tp));
    CHECK(covered);
  }
  producer.stop();
  CHECK(zombie->terminate());
  CHECK(survivor->terminate());
}

TEST_CASE("a static member restarted within its session timeout gets its partitions back without a rebalance",
          "[groups][process]") {
  group_env env(1);
  const std::string topic = "static", group = "g-static";
  constexpr int kPartitions = 4;
  env.topic(topic, kPartitions, 1);
  background_producer producer(env.bootstrap(), topic, kPartitions, 100);

  auto make = [&](const std::string& name, const std::string& instance) {
    member_spec s;
    s.name = name;
    s.group = group;
    s.topics = {topic};
    s.instance_id = instance;
    s.session_timeout_ms = 15000;  // the restart must fit well inside it
    return env.member(s);
  };
  auto s1 = make("s1", "instance-1");
  auto s2 = make("s2", "instance-2");
  std::vector<member_process*> all = {s1.get(), s2.get()};
  const auto before = env.stable(group, 2, kPartitions, histories(all));
  std::set<kappa::topic_partition> s1_partitions, s2_partitions;
  for (const auto& m : before.members) {
    if (m.instance_id == "instance-1") s1_partitions.insert(m.assignment.begin(), m.assignment.end());
    if (m.instance_id == "instance-2") s2_partitions.insert(m.assignment.begin(), m.assignment.end());
  }
  if (s1_partitions.empty()) env.fail("instance-1 owns nothing: " + summarize(before), histories(all));
  // The members' own logs agree with the coordinator (their on_assigned ran).
  if (!wait_until([&] { return owned_at_end(s1->log()) == s1_partitions && owned_at_end(s2->log()) == s2_partitions; },
                  5000)) {
    env.fail("the members' logs do not show the assignment the coordinator describes: " + summarize(before),
             histories(all));
  }
  const int64_t settled_at = mono_ns();

  if (!s1->terminate()) env.fail("s1 did not exit cleanly on SIGTERM", histories(all));
  auto s1b = make("s1-restarted", "instance-1");
  all.push_back(s1b.get());
  if (!wait_until([&] { return count_kind(s1b->log(), event_kind::assigned) > 0; }, 10000)) {
    env.fail("the restarted static member got no assignment within 10 s", histories(all));
  }
  const auto after = env.stable(group, 2, kPartitions, histories(all));
  CHECK(owned_at_end(s1b->log()) == s1_partitions);
  CHECK(after.group_epoch == before.group_epoch);
  CHECK(after.rebalances == before.rebalances);
  // The other member saw nothing happen.
  const auto s2_log = s2->log();
  CHECK(count_kind(s2_log, event_kind::assigned, settled_at) == 0);
  CHECK(count_kind(s2_log, event_kind::revoked, settled_at) == 0);
  CHECK(count_kind(s2_log, event_kind::lost, settled_at) == 0);

  // And it resumed from its own commits: no record processed twice.
  producer.stop();
  CHECK(wait_until([&] { return check_nothing_skipped(histories(all), producer.produced()).empty(); }, 15000));
  CHECK(s1b->terminate());
  CHECK(s2->terminate());
  const auto logs = histories(all);
  std::vector<std::string> problems;
  const auto intervals = ownership_intervals(logs, mono_ns(), problems);
  env.require_none("member logs inconsistent", problems, logs);
  env.require_none("a partition had two owners at once", check_single_owner(intervals), logs);
  env.require_none("records never processed", check_nothing_skipped(logs, producer.produced()), logs);
  CHECK(count_duplicates(logs) == 0);
}

}  // namespace kappa_groups
