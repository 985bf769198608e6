// Three raft_groups over real logs, replicating through a loopback transport.
#include "tests/replication/group/group_cluster.h"

#include <random>

#include "proto/format/batch_validator.h"
#include "replication/group/hard_state_file.h"
#include "replication/raft/errc.h"
#include "storage/errc.h"

namespace kappa::replication::test {
namespace {

void require_identical_logs(group_cluster& c) {
  test_node* l = c.leader();
  REQUIRE(l != nullptr);
  auto want = group_cluster::batches(*l->log);
  for (int i = 1; i <= c.size(); ++i) {
    test_node& n = c.node(i);
    if (!n.group) continue;
    INFO("node " << i);
    auto got = group_cluster::batches(*n.log);
    REQUIRE(got.size() == want.size());
    CHECK(got == want);
    CHECK_FALSE(n.hw_went_back.load());
    CHECK(n.hw_at_truncate_violation.load() == -1);
  }
}

bool has_leader_change(const storage::log& l, uint64_t epoch) {
  for (const auto& b : group_cluster::batches(l)) {
    auto h = format::read_header(as_bytes(b));
    if (h.partition_leader_epoch == static_cast<int32_t>(epoch) &&
        control_type(as_bytes(b)) == kControlLeaderChange) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("three groups elect a leader and replicate byte-identical logs", "[group][cluster]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  CHECK(l->id == raft::node_id(1));
  CHECK(c.propose_many(200, 0) == 200);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
  for (int i = 1; i <= 3; ++i) {
    auto s = c.node(i).group->status();
    CHECK(s.high_watermark == c.node(i).log->log_end_offset());
    CHECK(s.membership.voters.size() == 3);
    // Every batch validates; offsets are contiguous from 0.
    int64_t next = 0;
    for (const auto& b : group_cluster::batches(*c.node(i).log)) {
      auto h = format::validate_batch(as_bytes(b), {}, format::validation_depth::records);
      REQUIRE(h.ok());
      CHECK(h->base_offset == next);
      next = h->last_offset() + 1;
    }
  }
  CHECK(has_leader_change(*c.node(2).log, l->group->status().term.value));
  auto ls = l->group->status();
  CHECK(ls.in_sync.size() == 3);
}

TEST_CASE("a new leader after shutdown writes its LEADER_CHANGE everywhere with a higher epoch",
          "[group][cluster]") {
  group_cluster c(3);
  test_node* l1 = c.start_three();
  REQUIRE(l1 != nullptr);
  REQUIRE(c.propose_many(50, 0) == 50);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  const uint64_t term1 = l1->group->status().term.value;
  const int64_t hw1 = l1->hw.load();
  c.stop(*l1, /*graceful=*/true);
  test_node* l2 = c.wait_leader();
  REQUIRE(l2 != nullptr);
  CHECK(l2 != l1);
  const uint64_t term2 = l2->group->status().term.value;
  CHECK(term2 > term1);
  REQUIRE(c.propose_many(30, 100) == 30);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  for (int i = 1; i <= 3; ++i) {
    if (!c.node(i).group) continue;
    CHECK(has_leader_change(*c.node(i).log, term2));
    CHECK(c.node(i).hw.load() > hw1);
  }
  // The old leader rejoins from its files and catches up.
  c.start(c.node(l1->id.value));
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
}

TEST_CASE("an isolated old leader truncates its uncommitted suffix when it rejoins",
          "[group][cluster]") {
  group_cluster c(3);
  test_node* old = c.start_three();
  REQUIRE(old != nullptr);
  REQUIRE(c.propose_many(40, 0) == 40);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  const int64_t committed = old->hw.load();
  c.hub().isolate(old->id);
  // Accepted by the isolated leader, never committed.
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += c.propose(*old, 2, 500 + i).ok() ? 1 : 0;
  CHECK(accepted > 0);
  REQUIRE(group_cluster::wait_until([&] { return old->log->log_end_offset() > committed; }));
  // The others elect a new leader and move on.
  test_node* nl = nullptr;
  REQUIRE(group_cluster::wait_until([&] {
    for (int i = 1; i <= 3; ++i) {
      test_node& n = c.node(i);
      if (&n != old && n.group->status().role == raft::role::leader) nl = &n;
    }
    return nl != nullptr;
  }));
  for (int i = 0; i < 10; ++i) REQUIRE(c.propose(*nl, 1, 600 + i).ok());
  c.hub().heal();
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 15000));
  require_identical_logs(c);
  CHECK(old->min_truncate.load() >= committed);
  CHECK(old->min_truncate.load() < INT64_MAX);
  CHECK(old->hw.load() > committed);
}

TEST_CASE("groups restart from their state, epoch cache and log and continue", "[group][cluster]") {
  group_cluster c(3);
  REQUIRE(c.start_three() != nullptr);
  REQUIRE(c.propose_many(60, 0) == 60);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  const uint64_t term = c.leader()->group->status().term.value;
  const int64_t end = c.node(1).log->log_end_offset();
  for (int i = 1; i <= 3; ++i) c.stop(c.node(i), true);
  // Damage one epoch cache: it is rebuilt from the batch headers.
  REQUIRE(c.node(2).fe->remove("/data/p.epochs").ok());
  for (int i = 1; i <= 3; ++i) c.start(c.node(i));
  for (int i = 1; i <= 3; ++i) {
    CHECK(c.node(i).log->log_end_offset() == end);
    CHECK(c.node(i).group->status().term.value >= term);
  }
  test_node* l = c.wait_leader();
  REQUIRE(l != nullptr);
  CHECK(l->group->status().term.value > term);
  REQUIRE(c.propose_many(20, 1000) == 20);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
}

TEST_CASE("a power cut never loses a committed entry", "[group][cluster][crash]") {
  group_cluster c(3);
  REQUIRE(c.start_three() != nullptr);
  REQUIRE(c.propose_many(40, 0) == 40);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  // Crash a follower and the leader in turn while proposals flow; what was
  // committed before each crash must be in every log afterwards.
  for (int round = 0; round < 2; ++round) {
    test_node* l = c.wait_leader();
    REQUIRE(l != nullptr);
    test_node* victim = round == 0 ? &c.node(l->id.value % 3 + 1) : l;
    for (int i = 0; i < 10; ++i) (void)c.propose(*l, 1, 2000 + round * 100 + i);
    const int64_t committed = l->hw.load();
    auto before = group_cluster::batches(*l->log);
    c.stop(*victim, /*graceful=*/false);
    c.start(*victim);
    REQUIRE(c.propose_many(10, 3000 + round * 100) == 10);
    REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 15000));
    require_identical_logs(c);
    auto after = group_cluster::batches(*c.leader()->log);
    int64_t covered = 0;
    size_t k = 0;
    for (; k < before.size() && covered < committed; ++k) {
      covered = format::read_header(as_bytes(before[k])).last_offset() + 1;
    }
    REQUIRE(after.size() >= k);
    for (size_t j = 0; j < k; ++j) CHECK(after[j] == before[j]);
  }
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("a corrupted follower repairs, refuses votes until caught up, and ends identical",
          "[group][cluster][corruption]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(80, 0) == 80);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  test_node& r = c.node(l->id.value % 3 + 1);        // the follower to damage
  test_node& f = c.node((l->id.value + 1) % 3 + 1);  // the healthy follower
  REQUIRE(&r != l);
  REQUIRE(&f != l);
  REQUIRE(&f != &r);
  const int64_t end = r.log->log_end_offset();
  c.stop(r, /*graceful=*/true);
  // A bit flip in the first segment, with valid data after it: corruption.
  REQUIRE(r.fe->flip_bit("/data/p/00000000000000000000.log", 300, 2).ok());
  // The clean checkpoint would skip the scan that finds it.
  REQUIRE(r.fe->remove("/data/p/partition.checkpoint").ok());

  // The leader is cut off: the repaired node cannot catch up, so it must
  // not help elect anyone (it may lack committed entries).
  c.hub().isolate(l->id);
  c.start(r);
  CHECK(r.log->status().ok());
  CHECK(r.log->log_end_offset() < end);
  CHECK(r.group->status().recovering);
  bool elected = group_cluster::wait_until(
      [&] {
        return r.group->status().role == raft::role::leader ||
               f.group->status().role == raft::role::leader;
      },
      1500);
  CHECK_FALSE(elected);
  CHECK(r.group->status().recovering);

  c.hub().heal();
  REQUIRE(group_cluster::wait_until([&] { return c.converged() && !r.group->status().recovering; },
                                    15000));
  REQUIRE(c.propose_many(10, 900) == 10);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
}

TEST_CASE("a follower behind the leader's log start restarts its log there",
          "[group][cluster][restart_log]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(10, 0) == 10);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  test_node& behind = c.node(l->id.value % 3 + 1);
  c.hub().isolate(behind.id);
  // Leadership must stay put: the isolated node cannot disturb it (pre-vote).
  for (int i = 0; i < 100; ++i) REQUIRE(c.propose(*l, 3, 100 + i).ok());
  REQUIRE(group_cluster::wait_until(
      [&] { return l->hw.load() == l->log->log_end_offset() && l->log->segment_count() > 2; }));
  const int64_t start = l->hw.load();
  // A batch boundary at or below commit, inside the log (the last batch
  // holds 3 offsets), moved on the strand as retention would be.
  const int64_t new_start = l->log->log_end_offset() - 3;
  Status moved = c.on_strand(*l, [&] { return l->log->truncate_prefix(new_start); });
  REQUIRE(moved.ok());
  CHECK(new_start < start);
  CHECK(l->log->log_start_offset() == new_start);
  c.hub().heal();
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 15000));
  CHECK(behind.log->log_start_offset() == new_start);
  CHECK(behind.min_truncate.load() < INT64_MAX);
  REQUIRE(c.propose_many(5, 700) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  auto want = group_cluster::batches(*l->log);
  auto got = group_cluster::batches(*behind.log);
  CHECK(got == want);
  // It restarts from its files at the new start, too.
  c.stop(behind, true);
  c.start(behind);
  CHECK(behind.log->log_start_offset() == new_start);
  REQUIRE(c.propose_many(5, 800) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("proposals made while an fsync is in flight queue with pre-assigned offsets",
          "[group][cluster][queue]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(3, 0) == 3);
  // One strand task: the first proposal starts a ready whose fsync runs on
  // the flusher; the rest queue behind it.
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) sent.push_back(data_batch(1 + i % 4, 5000 + i));
  // (No assertions on the strand's thread: Catch2 is not thread-safe.)
  auto results = c.on_strand(*l, [&] {
    std::vector<Result<storage::append_result>> out;
    for (int i = 0; i < 50; ++i) out.push_back(l->group->propose(sent[i], 1 + i % 4));
    return out;
  });
  std::vector<storage::append_result> offsets;
  for (auto& r : results) {
    REQUIRE(r.ok());
    offsets.push_back(*r);
  }
  for (size_t i = 1; i < offsets.size(); ++i)
    CHECK(offsets[i].base_offset == offsets[i - 1].last_offset + 1);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
  // Each batch sits at the offsets it was promised, bytes unchanged except the stamp.
  for (size_t i = 0; i < offsets.size(); ++i) {
    auto v = l->log->read(offsets[i].base_offset, 1);
    REQUIRE(v.ok());
    auto h = format::read_header(v->batches);
    CHECK(h.base_offset == offsets[i].base_offset);
    CHECK(h.last_offset() == offsets[i].last_offset);
    CHECK(as_chars(v->batches.subspan(format::pos::attributes,
                                      h.size_bytes() - format::pos::attributes)) ==
          std::string_view(sent[i]).substr(format::pos::attributes));
  }
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("a power cut of every node keeps every committed entry", "[group][cluster][crash]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(30, 0) == 30);
  for (int i = 0; i < 20; ++i) (void)c.propose(*l, 2, 100 + i);  // some committed, some not
  const int64_t committed = l->hw.load();
  auto before = group_cluster::batches(*l->log);
  for (int i = 1; i <= 3; ++i) c.stop(c.node(i), /*graceful=*/false);
  for (int i = 1; i <= 3; ++i) c.start(c.node(i));
  REQUIRE(c.wait_leader() != nullptr);
  REQUIRE(c.propose_many(5, 300) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 15000));
  require_identical_logs(c);
  auto after = group_cluster::batches(*c.leader()->log);
  int64_t covered = 0;
  size_t k = 0;
  for (; k < before.size() && covered < committed; ++k)
    covered = format::read_header(as_bytes(before[k])).last_offset() + 1;
  CHECK(covered >= committed);
  REQUIRE(after.size() >= k);
  for (size_t j = 0; j < k; ++j) CHECK(after[j] == before[j]);
}

TEST_CASE("durable=false replicates without fsyncs before acks", "[group][cluster]") {
  group_cluster c(3, /*durable=*/false);
  REQUIRE(c.start_three() != nullptr);
  REQUIRE(c.propose_many(100, 0) == 100);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
  // A graceful restart of everyone keeps everything (shutdown flushes).
  const int64_t end = c.leader()->log->log_end_offset();
  for (int i = 1; i <= 3; ++i) c.stop(c.node(i), true);
  for (int i = 1; i <= 3; ++i) c.start(c.node(i));
  for (int i = 1; i <= 3; ++i) CHECK(c.node(i).log->log_end_offset() == end);
  REQUIRE(c.propose_many(5, 300) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("a new node joins as a learner, is promoted, and keeps its membership across a restart",
          "[group][cluster][membership]") {
  group_cluster c(4, true, /*voters=*/3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(20, 0) == 20);
  c.start(c.node(4));  // empty membership: learns it from the leader
  auto change = [&](raft::config_change::kind k) {
    return group_cluster::wait_until([&] {
      test_node* cur = c.leader();
      if (!cur) return false;
      return c.on_strand(*cur,
                         [&] {
                           return cur->group->change_membership({k, raft::node_id(4)});
                         })
          .ok();
    });
  };
  REQUIRE(change(raft::config_change::kind::add_learner));
  REQUIRE(group_cluster::wait_until([&] {
    return c.converged() && c.node(4).group->status().membership.is_learner(raft::node_id(4));
  }));
  REQUIRE(change(raft::config_change::kind::promote));
  REQUIRE(group_cluster::wait_until(
      [&] { return c.converged() && c.node(4).group->status().membership.voters.size() == 4; }));
  REQUIRE(c.propose_many(10, 100) == 10);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  // Each config control batch is in node 4's log.
  int configs = 0;
  for (const auto& b : group_cluster::batches(*c.node(4).log))
    configs += control_type(as_bytes(b)) == kControlKraftVoters;
  CHECK(configs == 2);
  // Wait for the lazy state write (<= 1 s) to record the committed membership,
  // then restart: the state file carries it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  REQUIRE(c.propose_many(1, 200) == 1);
  c.stop(c.node(4), true);
  auto st = read_persisted_state(*c.node(4).fe, "/data/p.state");
  REQUIRE(st.ok());
  CHECK(st->conf.voters.size() == 4);
  CHECK(st->conf_index >= raft::log_index(0));
  CHECK(st->hard.commit >= st->conf_index);
  c.start(c.node(4));
  CHECK(c.node(4).group->status().membership.voters.size() == 4);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  require_identical_logs(c);
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("entries damaged in transit are dropped, never appended, and refetched",
          "[group][cluster][damage]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(c.propose_many(5, 0) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
  const raft::node_id victim = c.node(l->id.value % 3 + 1).id;
  std::atomic<int> damaged{0};
  c.hub().set_mangle([&](raft::message& m) {
    if (m.to != victim || m.type != raft::message_type::append || m.entries.empty() ||
        damaged >= 20)
      return;
    std::string& p = m.entries.back().payload;
    p[p.size() - 1] = static_cast<char>(p[p.size() - 1] ^ 0x40);  // in the records: the CRC breaks
    ++damaged;
  });
  REQUIRE(c.propose_many(40, 100) == 40);
  REQUIRE(group_cluster::wait_until([&] { return damaged.load() >= 20; }, 15000));
  REQUIRE(c.propose_many(5, 200) == 5);
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 15000));
  c.hub().set_mangle(nullptr);
  require_identical_logs(c);
  for (const auto& b : group_cluster::batches(*c.node(victim.value).log)) {
    CHECK(format::validate_batch(as_bytes(b), {}, format::validation_depth::header_and_crc).ok());
  }
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("random partitions, power cuts and restarts never lose or change a committed entry",
          "[group][cluster][chaos]") {
  for (uint32_t seed : {11u, 12u, 13u}) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    group_cluster c(3);
    c.start(c.node(2));
    c.start(c.node(3));
    c.start(c.node(1), true);
    REQUIRE(c.wait_leader() != nullptr);
    std::vector<std::string> committed;  // the longest committed prefix seen, batch by batch
    auto observe = [&](test_node& n) {
      if (!n.group) return;
      const int64_t hw = n.hw.load();
      std::vector<std::string> prefix;
      for (auto& b : group_cluster::batches(*n.log)) {
        if (format::read_header(as_bytes(b)).last_offset() >= hw) break;
        prefix.push_back(std::move(b));
      }
      const size_t common = std::min(prefix.size(), committed.size());
      for (size_t j = 0; j < common; ++j) REQUIRE(prefix[j] == committed[j]);
      if (prefix.size() > committed.size()) committed = std::move(prefix);
    };
    raft::node_id isolated = raft::no_node;
    int tag = 0;
    for (int step = 0; step < 60; ++step) {
      test_node& n = c.node(static_cast<int>(rng() % 3) + 1);
      switch (rng() % 10) {
        case 0:
          if (isolated == raft::no_node) {
            isolated = n.id;
            c.hub().isolate(n.id);
          }
          break;
        case 1:
          c.hub().heal();
          isolated = raft::no_node;
          break;
        case 2:
          c.stop(n, /*graceful=*/false);
          c.start(n);
          break;
        case 3:
          c.stop(n, /*graceful=*/true);
          c.start(n);
          break;
        default:
          if (test_node* l = c.leader()) {
            for (int k = 0; k < 3; ++k, ++tag) (void)c.propose(*l, 1 + tag % 3, tag);
          }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      for (int i = 1; i <= 3; ++i) observe(c.node(i));
    }
    c.hub().heal();
    REQUIRE(c.propose_many(3, 100000) == 3);
    REQUIRE(group_cluster::wait_until([&] { return c.converged(); }, 20000));
    for (int i = 1; i <= 3; ++i) observe(c.node(i));
    auto final_log = group_cluster::batches(*c.leader()->log);
    REQUIRE(final_log.size() >= committed.size());
    for (size_t j = 0; j < committed.size(); ++j) REQUIRE(final_log[j] == committed[j]);
    CHECK(committed.size() > 10);
    require_identical_logs(c);
  }
}

}  // namespace kappa::replication::test

namespace kappa::replication::test {

TEST_CASE("propose refuses on a follower and refuses what is not one batch", "[group][cluster]") {
  group_cluster c(3);
  test_node* l = c.start_three();
  REQUIRE(l != nullptr);
  REQUIRE(group_cluster::wait_until(
      [&] { return c.node(l->id.value % 3 + 1).group->status().leader == l->id; }));
  test_node& f = c.node(l->id.value % 3 + 1);
  auto r = c.propose(f, 1, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == raft::errc::not_leader);
  CHECK(r.status().message().find("leader is " + std::to_string(l->id.value)) != std::string::npos);
  std::string b = data_batch(2, 3);
  auto wrong_count = c.on_strand(*l, [&] { return l->group->propose(b, 5); });
  CHECK(wrong_count.status().code() == storage::errc::invalid_batch);
  std::string garbage = b;
  garbage[garbage.size() - 1] ^= 1;
  auto bad = c.on_strand(*l, [&] { return l->group->propose(garbage, 2); });
  CHECK(bad.status().code() == storage::errc::invalid_batch);
  auto ok = c.on_strand(*l, [&] { return l->group->propose(b, 2); });
  CHECK(ok.ok());
  REQUIRE(group_cluster::wait_until([&] { return c.converged(); }));
}

}  // namespace kappa::replication::test
