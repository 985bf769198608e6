// The consumer as a group member against a scripted fake coordinator
// (tests/client/fake_group_coordinator.h): join and committed offsets,
// revocation order (commit, on_revoked, then the let-go heartbeat), fencing
// (on_lost and a rejoin), heartbeats while the application does not poll,
// commit ordering and epochs, leaving at close/unsubscribe, misuse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "kappa/consumer.h"
#include "tests/client/fake_group_coordinator.h"

using kappa::topic_partition;
using kappa::test::fake_broker_state;
using kappa::test::fake_group_coordinator;
using kappa::test::group_event;
using kappa::test::tp_set;

namespace {

const topic_partition t0{"t", 0}, t1{"t", 1}, t2{"t", 2}, t3{"t", 3};
const tp_set all4{t0, t1, t2, t3};

kappa::byte_buffer batch(int count, int64_t first_value) {
  kappa::format::batch_options options;
  std::vector<kappa::format::record> records;
  for (int i = 0; i < count; ++i) {
    kappa::format::record r;
    r.value = "v" + std::to_string(first_value + i);
    r.timestamp = 1000 + i;
    records.push_back(std::move(r));
  }
  auto built = kappa::format::build_batch(options, records);
  REQUIRE(built.ok());
  return std::move(built).value();
}

// Topic t: 4 partitions of 10 records each (offsets 0..9).
std::shared_ptr<fake_broker_state> make_state() {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 4);
  for (int p = 0; p < 4; ++p) state->append_raw({"t", p}, batch(10, 0));
  return state;
}

kappa::consumer_config config_for(const fake_group_coordinator& fake, bool auto_commit) {
  kappa::consumer_config c;
  c.client.bootstrap = fake.address();
  c.client.retry_backoff_min_ms = 20;
  c.client.retry_backoff_max_ms = 200;
  c.client.request_timeout_ms = 5000;
  c.fetch_max_wait_ms = 50;
  c.auto_offset_reset = kappa::offset_reset::earliest;
  c.enable_auto_commit = auto_commit;
  c.auto_commit_interval_ms = 60000;  // only the commits before revocation and at close
  c.session_timeout_ms = 10000;
  return c;
}

std::unique_ptr<kappa::consumer> make_consumer(const kappa::consumer_config& c) {
  auto made = kappa::consumer::create(c);
  REQUIRE(made.ok());
  return std::move(made).value();
}

// Records the listener's calls in the fake's event log.
kappa::rebalance_listener recording_listener(fake_group_coordinator& fake) {
  auto rec = [&fake](const char* label) {
    return [&fake, label](kappa::consumer& c, const std::vector<topic_partition>& tps) {
      group_event e;
      e.what = group_event::kind::callback;
      e.member_id = c.member_id();
      e.partitions = tp_set(tps.begin(), tps.end());
      e.label = label;
      fake.groups.record(std::move(e));
    };
  };
  return {rec("revoked"), rec("assigned"), rec("lost")};
}

// Polls (at most ~5 s) until pred() holds; returns the records' partitions and offsets.
template <typename Pred>
std::vector<std::pair<topic_partition, int64_t>> poll_until(kappa::consumer& c, Pred pred,
                                                            int max_ms = 5000) {
  std::vector<std::pair<topic_partition, int64_t>> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
  while (!pred(got) && std::chrono::steady_clock::now() < end) {
    auto polled = c.poll(50);
    REQUIRE(polled.ok());
    for (const auto& r : *polled) got.push_back({{r.topic, r.partition}, r.offset});
  }
  return got;
}

auto count_is(size_t n) {
  return [n](const auto& got) { return got.size() >= n; };
}

std::vector<group_event> of(const std::vector<group_event>& events, group_event::kind what,
                            const std::string& label = "") {
  std::vector<group_event> out;
  for (const auto& e : events) {
    if (e.what == what && (label.empty() || e.label == label)) out.push_back(e);
  }
  return out;
}

size_t index_of(const std::vector<group_event>& events, group_event::kind what,
                const std::string& label) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].what == what && events[i].label == label) return i;
  }
  return events.size();
}

}  // namespace

TEST_CASE("a member starts at the committed offsets (else auto_offset_reset); on_assigned may seek",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  fake.groups.set_committed("g", t0, 3);
  auto c = make_consumer(config_for(fake, false));
  std::atomic<int> assigned_calls{0};
  kappa::rebalance_listener listener;
  listener.on_assigned = [&](kappa::consumer& self, const std::vector<topic_partition>& tps) {
    ++assigned_calls;
    CHECK(tp_set(tps.begin(), tps.end()) == all4);
    CHECK(self.assignment().size() == 4);
    auto p0 = self.position(t0);
    REQUIRE(p0.ok());
    CHECK(*p0 == 3);
    CHECK(self.seek(t1, 5).ok());
  };
  REQUIRE(c->subscribe({"t"}, "g", listener).ok());
  auto got = poll_until(*c, count_is(7 + 5 + 10 + 10));
  CHECK(got.size() == 32);
  CHECK(assigned_calls == 1);
  std::map<topic_partition, int64_t> first;
  for (const auto& [tp, offset] : got) first.try_emplace(tp, offset);
  CHECK(first[t0] == 3);
  CHECK(first[t1] == 5);
  CHECK(first[t2] == 0);
  CHECK(first[t3] == 0);
  CHECK(!c->member_id().empty());
  CHECK(c->member_epoch() > 0);
  c->close();
}

TEST_CASE("revoked partitions are committed and called back before the member reports them let go",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.heartbeat_interval_ms = 1000;  // so only the immediate heartbeat can be quick
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, true));
  REQUIRE(c->subscribe({"t"}, "g", recording_listener(fake)).ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  const std::string member = c->member_id();
  fake.groups.set_target(member, {t0, t1});
  poll_until(
      *c, [&](const auto&) { return c->assignment().size() == 2; }, 5000);
  REQUIRE(c->assignment() == std::vector<topic_partition>{t0, t1});
  // The let-go heartbeat goes out at once, not a heartbeat interval later.
  poll_until(
      *c,
      [&](const auto&) {
        for (const auto& e : of(fake.groups.events(), group_event::kind::heartbeat)) {
          if (e.member_id == member && e.partitions == tp_set{t0, t1}) return true;
        }
        return false;
      },
      3000);

  const auto events = fake.groups.events();
  const size_t revoked = index_of(events, group_event::kind::callback, "revoked");
  REQUIRE(revoked < events.size());
  CHECK(events[revoked].partitions == tp_set{t2, t3});
  // 1. auto-commit of the revoked partitions' positions, with the current epoch;
  bool committed_before = false;
  for (size_t i = 0; i < revoked; ++i) {
    const auto& e = events[i];
    if (e.what == group_event::kind::commit && e.partitions == tp_set{t2, t3}) {
      committed_before = e.offsets.at(t2) == 10 && e.offsets.at(t3) == 10 &&
                         e.member_epoch == fake.groups.epoch_of(member);
    }
  }
  CHECK(committed_before);
  CHECK(fake.groups.committed("g", t2) == 10);
  // 2. every heartbeat before on_revoked still owned them once it had them;
  bool owned_all = false;
  for (size_t i = 0; i < revoked; ++i) {
    const auto& e = events[i];
    if (e.what != group_event::kind::heartbeat || e.member_id != member) continue;
    if (e.partitions == all4) owned_all = true;
    if (owned_all) CHECK(e.partitions == all4);
  }
  CHECK(owned_all);
  // 3. the first heartbeat after it reports them let go, at once.
  size_t let_go = events.size();
  for (size_t i = revoked; i < events.size() && let_go == events.size(); ++i) {
    if (events[i].what == group_event::kind::heartbeat && events[i].member_id == member) let_go = i;
  }
  REQUIRE(let_go < events.size());
  CHECK(events[let_go].partitions == tp_set{t0, t1});
  CHECK(events[let_go].at - events[revoked].at < std::chrono::milliseconds(500));
  c->close();
}

TEST_CASE("a partition moves to a second member only after the first let it go",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto a = make_consumer(config_for(fake, true));
  REQUIRE(a->subscribe({"t"}, "g", recording_listener(fake)).ok());
  REQUIRE(poll_until(*a, count_is(40)).size() == 40);
  fake.groups.join_target = {t2, t3};
  auto b = make_consumer(config_for(fake, true));
  REQUIRE(b->subscribe({"t"}, "g", recording_listener(fake)).ok());
  // b joins and waits: a still owns t2, t3 until it is told and lets go.
  REQUIRE(poll_until(
              *b, [&](const auto&) { return !b->member_id().empty(); }, 3000)
              .empty());
  CHECK(b->assignment().empty());
  fake.groups.set_target(a->member_id(), {t0, t1});
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (b->assignment().size() < 2 && std::chrono::steady_clock::now() < end) {
    REQUIRE(a->poll(20).ok());
    auto polled = b->poll(20);
    REQUIRE(polled.ok());
  }
  CHECK(a->assignment() == std::vector<topic_partition>{t0, t1});
  REQUIRE(b->assignment() == std::vector<topic_partition>{t2, t3});
  const auto events = fake.groups.events();
  size_t revoked_a = events.size(), assigned_b = events.size();
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.what != group_event::kind::callback) continue;
    if (e.label == "revoked" && e.member_id == a->member_id() && revoked_a == events.size())
      revoked_a = i;
    if (e.label == "assigned" && e.member_id == b->member_id() && assigned_b == events.size())
      assigned_b = i;
  }
  REQUIRE(revoked_a < events.size());
  REQUIRE(assigned_b < events.size());
  CHECK(revoked_a < assigned_b);
  // b resumes where a committed: nothing again from t2 or t3.
  auto got = poll_until(*b, count_is(1), 500);
  CHECK(got.empty());
  a->close();
  b->close();
}

TEST_CASE("commits carry the member epoch and land in order; committed() reads them back",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  REQUIRE(c->commit_sync().ok());
  const int32_t epoch = fake.groups.epoch_of(c->member_id());
  CHECK(epoch == c->member_epoch());
  auto commits = of(fake.groups.events(), group_event::kind::commit);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].member_epoch == epoch);
  CHECK(commits[0].member_id == c->member_id());
  CHECK(commits[0].offsets ==
        std::map<topic_partition, int64_t>{{t0, 10}, {t1, 10}, {t2, 10}, {t3, 10}});

  // Async commits overlap in time but complete in the order they were made,
  // and a later commit_sync waits for them.
  fake.groups.set_commit_delay_ms(10);
  std::mutex mu;
  std::vector<int> done_order;
  for (int i = 1; i <= 10; ++i) {
    REQUIRE(c->seek(t0, i).ok());
    c->commit_async([&, i](kappa::Status st) {  // no Catch2 assertion off the test thread
      std::lock_guard lock(mu);
      done_order.push_back(st.ok() ? i : -i);
    });
  }
  REQUIRE(c->commit_sync({{t1, 7}}).ok());
  {
    std::lock_guard lock(mu);
    CHECK(done_order == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  }
  std::vector<int64_t> t0_offsets;
  for (const auto& e : of(fake.groups.events(), group_event::kind::commit)) {
    if (e.offsets.count(t0)) t0_offsets.push_back(e.offsets.at(t0));
  }
  CHECK(t0_offsets == std::vector<int64_t>{10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto committed = c->committed({t0, t1, t2, {"t", 9}});
  REQUIRE(committed.ok());
  CHECK(committed->at(t0).offset == 10);
  CHECK(committed->at(t1).offset == 7);
  CHECK(committed->at(t2).offset == 10);
  CHECK(committed->at({"t", 9}).offset == -1);
  c->close();
}

TEST_CASE("a commit that meets STALE_MEMBER_EPOCH is resent with the epoch a heartbeat brings",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.heartbeat_interval_ms = 5000;  // only the immediate heartbeat can bring it in time
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  const int32_t before = c->member_epoch();
  fake.groups.stale_next_commit();
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(c->commit_sync().ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(c->member_epoch() == before + 1);
  auto commits = of(fake.groups.events(), group_event::kind::commit);
  REQUIRE(commits.size() == 2);
  CHECK(commits[0].member_epoch == before);
  CHECK(commits[1].member_epoch == before + 1);
  CHECK(fake.groups.committed("g", t3) == 10);
  c->close();
}

TEST_CASE("a fenced member loses its partitions without a commit (on_lost) and rejoins",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, true));
  REQUIRE(c->subscribe({"t"}, "g", recording_listener(fake)).ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  const std::string old_member = c->member_id();
  fake.groups.fence(old_member);
  // The rejoined member starts over from the (never committed) beginning.
  auto got = poll_until(*c, count_is(40));
  CHECK(got.size() == 40);
  CHECK(c->member_id() != old_member);
  CHECK(!c->member_id().empty());
  const auto events = fake.groups.events();
  auto lost = of(events, group_event::kind::callback, "lost");
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].partitions == all4);
  CHECK(of(events, group_event::kind::callback, "revoked").empty());
  CHECK(of(events, group_event::kind::callback, "assigned").size() == 2);
  for (const auto& e : of(events, group_event::kind::commit)) CHECK(e.member_id != old_member);
  CHECK(!fake.groups.committed("g", t0).has_value());
  c->close();
}

TEST_CASE("heartbeats go on while the application does not poll", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  const size_t before = of(fake.groups.events(), group_event::kind::heartbeat).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // "processing" (interval 100 ms)
  const size_t after = of(fake.groups.events(), group_event::kind::heartbeat).size();
  CHECK(after - before >= 8);
  c->close();
}

TEST_CASE("close commits, calls on_revoked and leaves; a static member leaves with epoch -2",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  const bool is_static = GENERATE(false, true);
  auto config = config_for(fake, true);
  if (is_static) config.group_instance_id = "instance-1";
  auto c = make_consumer(config);
  REQUIRE(c->subscribe({"t"}, "g", recording_listener(fake)).ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  const std::string member = c->member_id();
  c->close();
  CHECK(c->member_id().empty());
  CHECK(c->member_epoch() == -1);
  auto polled = c->poll(10);
  REQUIRE(!polled.ok());
  CHECK(polled.status().code() == make_error_code(kappa::client_errc::closed));
  const auto events = fake.groups.events();
  const size_t revoked = index_of(events, group_event::kind::callback, "revoked");
  REQUIRE(revoked < events.size());
  CHECK(events[revoked].partitions == all4);
  size_t commit = events.size(), leave = events.size();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].what == group_event::kind::commit && events[i].partitions == all4) commit = i;
    if (events[i].what == group_event::kind::leave) leave = i;
  }
  REQUIRE(commit < revoked);
  REQUIRE(leave < events.size());
  CHECK(revoked < leave);
  CHECK(events[leave].member_id == member);
  CHECK(events[leave].member_epoch == (is_static ? -2 : -1));
  for (const auto& tp : all4) CHECK(fake.groups.committed("g", tp) == 10);
}

TEST_CASE("unsubscribe leaves the group; then manual assignment works", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  REQUIRE(c->unsubscribe().ok());
  CHECK(c->assignment().empty());
  CHECK(of(fake.groups.events(), group_event::kind::leave).size() == 1);
  CHECK(fake.groups.member_ids().empty());
  REQUIRE(c->assign({t1}).ok());
  REQUIRE(c->seek(t1, 8).ok());
  CHECK(poll_until(*c, count_is(2)).size() == 2);
}

TEST_CASE("callbacks may commit synchronously (commit after processing)", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  std::atomic<int> revoked_ok{0};
  kappa::rebalance_listener listener;
  listener.on_revoked = [&](kappa::consumer& self, const std::vector<topic_partition>&) {
    if (self.commit_sync().ok()) ++revoked_ok;
  };
  REQUIRE(c->subscribe({"t"}, "g", listener).ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  fake.groups.set_target(c->member_id(), {t0});
  poll_until(*c, [&](const auto&) { return c->assignment().size() == 1; });
  CHECK(revoked_ok == 1);
  CHECK(fake.groups.committed("g", t3) == 10);
  c->close();
  CHECK(revoked_ok == 2);
}

TEST_CASE("a heartbeat error that retrying cannot fix is returned by poll()", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto config = config_for(fake, false);
  config.group_assignor = "bogus";
  auto c = make_consumer(config);
  REQUIRE(c->subscribe({"t"}, "g").ok());
  std::optional<kappa::Status> error;
  for (int i = 0; i < 50 && !error; ++i) {
    auto polled = c->poll(50);
    if (!polled.ok()) error = polled.status();
  }
  REQUIRE(error.has_value());
  CHECK(error->code() == make_error_code(kappa::client_errc::unsupported_assignor));
  CHECK(c->member_id().empty());
  c->close();
}

TEST_CASE("a callback may unsubscribe or close the consumer", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  const bool close_it = GENERATE(false, true);
  auto c = make_consumer(config_for(fake, false));
  int revoked_calls = 0;
  kappa::rebalance_listener listener;
  listener.on_revoked = [&](kappa::consumer& self, const std::vector<topic_partition>&) {
    if (++revoked_calls > 1) return;  // the leave's own on_revoked
    if (close_it) {
      self.close();
    } else {
      CHECK(self.unsubscribe().ok());
    }
  };
  REQUIRE(c->subscribe({"t"}, "g", listener).ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  fake.groups.set_target(c->member_id(), {t0});
  for (int i = 0; i < 100 && revoked_calls == 0; ++i) {
    auto polled = c->poll(20);
    if (close_it && !polled.ok()) {
      CHECK(polled.status().code() == make_error_code(kappa::client_errc::closed));
      break;
    }
    REQUIRE(polled.ok());
  }
  CHECK(revoked_calls == 2);
  CHECK(c->assignment().empty());
  CHECK(c->member_id().empty());
  CHECK(of(fake.groups.events(), group_event::kind::leave).size() == 1);
  auto after = c->poll(10);
  CHECK(after.ok() == !close_it);
}

TEST_CASE("auto-commit runs from poll() on its interval", "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  auto config = config_for(fake, true);
  config.auto_commit_interval_ms = 200;
  auto c = make_consumer(config);
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  poll_until(
      *c, [](const auto&) { return false; }, 700);
  const auto commits = of(fake.groups.events(), group_event::kind::commit);
  CHECK(commits.size() >= 2);
  CHECK(commits.size() <= 5);
  for (const auto& tp : all4) CHECK(fake.groups.committed("g", tp) == 10);
  // Not polling: no auto-commit (it runs from poll()).
  const size_t before = of(fake.groups.events(), group_event::kind::commit).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(of(fake.groups.events(), group_event::kind::commit).size() == before);
  c->close();
}

TEST_CASE("the subscription goes in full on each heartbeat; a new one goes at once",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.heartbeat_interval_ms = 5000;
  fake.groups.join_target = all4;
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe_pattern("t.*", "g").ok());
  poll_until(*c, [&](const auto&) { return c->assignment().size() == 4; });
  REQUIRE(c->assignment().size() == 4);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(c->subscribe({"t", "u"}, "g").ok());
  bool sent = false;
  while (!sent && std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
    for (const auto& e : of(fake.groups.events(), group_event::kind::heartbeat))
      sent |= e.label == "topics:t,u";
    if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(sent);  // long before the 5 s interval
  const auto heartbeats = of(fake.groups.events(), group_event::kind::heartbeat);
  REQUIRE(!heartbeats.empty());
  CHECK(heartbeats.front().label == "pattern:t.*");
  c->close();
}

TEST_CASE("retriable coordinator errors are retried: the member joins and commits anyway",
          "[client][group]") {
  fake_group_coordinator fake(make_state());
  fake.groups.join_target = all4;
  const auto code = GENERATE(kappa::v1::COORDINATOR_LOAD_IN_PROGRESS,
                             kappa::v1::COORDINATOR_NOT_AVAILABLE, kappa::v1::NOT_COORDINATOR);
  fake.groups.fail_next(3, code);
  auto c = make_consumer(config_for(fake, false));
  REQUIRE(c->subscribe({"t"}, "g").ok());
  REQUIRE(poll_until(*c, count_is(40)).size() == 40);
  fake.groups.fail_next(2, code);
  REQUIRE(c->commit_sync().ok());
  CHECK(fake.groups.committed("g", t1) == 10);
  c->close();
}

TEST_CASE("group misuse fails with invalid_argument", "[client][group]") {
  fake_group_coordinator fake(make_state());
  const auto invalid = make_error_code(kappa::client_errc::invalid_argument);
  auto c = make_consumer(config_for(fake, false));
  CHECK(c->commit_sync().code() == invalid);
  CHECK(c->committed({t0}).status().code() == invalid);
  CHECK(c->subscribe({"t"}, "").code() == invalid);
  CHECK(c->subscribe({}, "g").code() == invalid);
  CHECK(c->subscribe_pattern("t(", "g").code() == invalid);
  REQUIRE(c->assign({t0}).ok());
  CHECK(c->subscribe({"t"}, "g").code() == invalid);
  REQUIRE(c->assign({}).ok());
  REQUIRE(c->subscribe_pattern("t.*", "g").ok());
  CHECK(c->assign({t0}).code() == invalid);
  CHECK(c->subscribe({"t"}, "other").code() == invalid);
  CHECK(c->subscribe({"t"}, "g").ok());  // same group: a new subscription
  c->close();
}
