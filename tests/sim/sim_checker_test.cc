// The checker must be able to fail: each case forges a history that breaks
// one invariant and expects the checker to name it. A checker that always
// says "ok" would make every seed of the simulation pass.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/sim/sim_checker.h"

namespace kappa::raft::sim {
namespace {

entry e(uint64_t term, int64_t base, std::string payload = "x") {
  return {.term = term_id(term),
          .base_index = log_index(base),
          .last_index = log_index(base),
          .payload = std::move(payload)};
}

replica_view view(uint64_t id, const std::vector<entry>& log, int64_t commit, uint64_t epoch = 0) {
  replica_view v;
  v.id = node_id(id);
  v.up = true;
  v.term = log.empty() ? term_id(1) : log.back().term;
  v.commit = log_index(commit);
  v.persisted = {.term = v.term, .vote = no_node, .commit = log_index(commit)};
  v.log = &log;
  v.log_epoch = epoch;
  return v;
}

bool mentions(const std::vector<std::string>& v, const std::string& what) {
  for (const std::string& s : v) {
    if (s.find(what) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("checker: a committed entry that changes is caught", "[sim][checker]") {
  checker c;
  std::vector<entry> before{e(1, 0, "a"), e(1, 1, "b")};
  REQUIRE(c.check({view(1, before, 1)}).empty());
  // The same replica later holds another entry at committed offset 1.
  std::vector<entry> after{e(1, 0, "a"), e(2, 1, "c")};
  std::vector<std::string> v = c.check({view(1, after, 1, /*epoch=*/1)});
  REQUIRE(mentions(v, "committed"));
}

TEST_CASE("checker: two replicas committing different entries is caught", "[sim][checker]") {
  checker c;
  std::vector<entry> x{e(1, 0, "a")}, y{e(2, 0, "b")};
  REQUIRE(mentions(c.check({view(1, x, 0), view(2, y, 0)}), "committed"));
}

TEST_CASE("checker: two leaders in one term are caught", "[sim][checker]") {
  checker c;
  std::vector<entry> log{e(3, 0)};
  replica_view a = view(1, log, -1), b = view(2, log, -1);
  a.role = b.role = role::leader;
  REQUIRE(c.check({a}).empty());
  REQUIRE(mentions(c.check({a, b}), "two leaders in term 3"));
}

TEST_CASE("checker: a commit index that goes back is caught, across restarts too",
          "[sim][checker]") {
  std::vector<entry> log{e(1, 0), e(1, 1)};
  checker c;
  REQUIRE(c.check({view(1, log, 1)}).empty());
  REQUIRE(mentions(c.check({view(1, log, 0)}), "went back"));
  checker d;
  REQUIRE(d.check({view(1, log, 1)}).empty());
  replica_view restarted = view(1, log, 0);
  restarted.life = 1;  // a new life may start at the persisted commit, not below it
  REQUIRE(mentions(d.check({restarted}), "went back"));
}

TEST_CASE("checker: a log shorter than its persisted commit is caught", "[sim][checker]") {
  checker c;
  std::vector<entry> log{e(1, 0)};
  replica_view v = view(1, log, 0);
  v.persisted.commit = log_index(1);
  REQUIRE(mentions(c.check({v}), "lost committed entries"));
}

TEST_CASE("checker: log matching across replicas is enforced", "[sim][checker]") {
  checker c;
  // Same term and offset at 1, different entries below it.
  std::vector<entry> x{e(1, 0, "a"), e(2, 1, "z")}, y{e(1, 0, "b"), e(2, 1, "z")};
  REQUIRE(mentions(c.check({view(1, x, -1), view(2, y, -1)}), "log matching"));
}

TEST_CASE("checker: truncating at or below commit, or a committed entry, is caught",
          "[sim][checker]") {
  checker c;
  std::vector<entry> log{e(1, 0), e(1, 1), e(1, 2)};
  REQUIRE(c.check({view(1, log, 1), view(2, log, -1)}).empty());
  REQUIRE(!c.on_truncate(view(1, log, 1), log_index(1)).empty());
  REQUIRE(c.on_truncate(view(1, log, 1), log_index(2)).empty());
  // Node 2 does not know offset 1 is committed, but node 1 committed it.
  REQUIRE(mentions({c.on_truncate(view(2, log, -1), log_index(1))}, "truncates committed"));
}

TEST_CASE("checker: a leader missing a committed entry is caught", "[sim][checker]") {
  checker c;
  std::vector<entry> full{e(1, 0), e(1, 1)}, short_log{e(1, 0)};
  REQUIRE(c.check({view(1, full, 1)}).empty());
  replica_view l = view(2, short_log, 0);
  l.role = role::leader;
  l.term = term_id(5);
  l.settled = true;
  REQUIRE(mentions(c.check({l}), "lacks committed"));
}

// A replica whose log starts at `start` (compacted or restarted).
replica_view started(uint64_t id, const std::vector<entry>& log, int64_t commit, int64_t start,
                     uint64_t prev_term, uint64_t epoch = 0) {
  replica_view v = view(id, log, commit, epoch);
  v.log_start = log_index(start);
  v.start_prev_term = term_id(prev_term);
  return v;
}

TEST_CASE("checker: a log that starts after its committed prefix is checked over the overlap",
          "[sim][checker]") {
  checker c;
  std::vector<entry> full{e(1, 0, "a"), e(1, 1, "b"), e(2, 2, "c")};
  REQUIRE(c.check({view(1, full, 1)}).empty());
  // Node 2 restarted at 2 (after the committed b) and holds c: fine.
  std::vector<entry> tail{e(2, 2, "c")};
  REQUIRE(c.check({view(1, full, 1), started(2, tail, 1, 2, 1)}).empty());
  // Node 3 starts at 2 too but holds another entry of term 2 there: the
  // prefixes differ, although neither log holds what is below.
  std::vector<entry> other{e(2, 2, "d")};
  REQUIRE(mentions(c.check({view(1, full, 1), started(3, other, 1, 2, 1)}), "log matching"));
}

TEST_CASE("checker: a log start that is not the end of a committed entry is caught",
          "[sim][checker]") {
  checker c;
  std::vector<entry> full{e(1, 0, "a"), e(1, 1, "b"), e(2, 2, "c")};
  REQUIRE(c.check({view(1, full, 1)}).empty());
  std::vector<entry> empty;
  // Offset 2 is not committed.
  REQUIRE(mentions(c.check({started(2, empty, 2, 3, 2)}), "not the end of a committed entry"));
  // Offset 1 is committed, but with term 1.
  checker d;
  REQUIRE(d.check({view(1, full, 1)}).empty());
  REQUIRE(mentions(d.check({started(2, empty, 1, 2, 7)}), "not the end of a committed entry"));
}

TEST_CASE("checker: a log restart below commit, uncommitted, or dropping committed entries, "
          "is caught",
          "[sim][checker]") {
  checker c;
  std::vector<entry> full{e(1, 0, "a"), e(1, 1, "b"), e(2, 2, "c")};
  REQUIRE(c.check({view(1, full, 2), view(2, full, 0)}).empty());
  CHECK(c.on_restart_log(view(2, full, 0), log_index(2), term_id(1)).find("drops committed") !=
        std::string::npos);
  CHECK(c.on_restart_log(view(2, full, 2), log_index(2), term_id(1)).find("below its persisted") !=
        std::string::npos);
  std::vector<entry> junk{e(1, 0, "a"), e(3, 1, "x")};
  CHECK(c.on_restart_log(view(3, junk, 0), log_index(2), term_id(1)).empty());
  CHECK(c.on_restart_log(view(3, junk, 0), log_index(3), term_id(2)).empty());
  CHECK(c.on_restart_log(view(3, junk, 0), log_index(4), term_id(2)).find("not after a committed") !=
        std::string::npos);
}

}  // namespace
}  // namespace kappa::raft::sim
