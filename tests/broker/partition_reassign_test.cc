// plan_reassign_step: one membership change at a time toward a target
// replica set, growing before shrinking, the leader leaving last.
#include <catch2/catch.hpp>

#include "broker/errc.h"
#include "broker/partition_reassign.h"

#include <algorithm>

using namespace kappa;
using namespace kappa::broker;
using kind = reassign_action::kind;
using ck = raft::config_change::kind;

namespace {

raft::node_id n(uint64_t id) {
  return raft::node_id(id);
}

replication::group_status leader_status(std::vector<uint64_t> voters,
                                        std::vector<uint64_t> learners,
                                        std::vector<uint64_t> in_sync) {
  replication::group_status st;
  st.leader = n(1);
  st.role = raft::role::leader;
  for (auto v : voters) st.membership.voters.push_back(n(v));
  for (auto l : learners) st.membership.learners.push_back(n(l));
  for (auto i : in_sync) st.in_sync.push_back(n(i));
  return st;
}

reassign_action plan(const replication::group_status& st, std::vector<int32_t> target,
                     uint64_t self = 1) {
  auto a = plan_reassign_step(st, n(self), target);
  REQUIRE(a.ok());
  return *a;
}

}  // namespace

TEST_CASE("a missing target replica joins as a learner first", "[broker][reassign]") {
  auto a = plan(leader_status({1, 2, 3}, {}, {1, 2, 3}), {1, 2, 4});
  REQUIRE(a.what == kind::change);
  CHECK(a.change.type == ck::add_learner);
  CHECK(a.change.node == n(4));
}

TEST_CASE("a learner is promoted only once in sync", "[broker][reassign]") {
  CHECK(plan(leader_status({1, 2, 3}, {4}, {1, 2, 3}), {1, 2, 4}).what == kind::wait);
  auto a = plan(leader_status({1, 2, 3}, {4}, {1, 2, 3, 4}), {1, 2, 4});
  REQUIRE(a.what == kind::change);
  CHECK(a.change.type == ck::promote);
  CHECK(a.change.node == n(4));
}

TEST_CASE("replicas outside the target are removed after the new ones vote", "[broker][reassign]") {
  auto a = plan(leader_status({1, 2, 3, 4}, {}, {1, 2, 3, 4}), {1, 2, 4});
  REQUIRE(a.what == kind::change);
  CHECK(a.change.type == ck::remove);
  CHECK(a.change.node == n(3));
  // A stray learner (from an abandoned reassignment) goes too.
  auto b = plan(leader_status({1, 2, 4}, {5}, {1, 2, 4}), {1, 2, 4});
  REQUIRE(b.what == kind::change);
  CHECK(b.change.type == ck::remove);
  CHECK(b.change.node == n(5));
}

TEST_CASE("the leader leaves last, by handing leadership to an in-sync target voter",
          "[broker][reassign]") {
  auto a = plan(leader_status({1, 2, 3}, {}, {1, 3}), {2, 3});
  REQUIRE(a.what == kind::transfer);
  CHECK(a.transfer_to == n(3));  // 2 is behind
  CHECK(plan(leader_status({1, 2, 3}, {}, {1}), {2, 3}).what == kind::wait);
}

TEST_CASE("done once the voters equal the target", "[broker][reassign]") {
  CHECK(plan(leader_status({1, 2, 4}, {}, {1, 2}), {4, 2, 1, 2}).what == kind::done);
}

TEST_CASE("a whole move from {1,2,3} to {4,5,6} converges step by step", "[broker][reassign]") {
  replication::group_status st = leader_status({1, 2, 3}, {}, {1, 2, 3});
  uint64_t self = 1;
  const std::vector<int32_t> target{4, 5, 6};
  bool done = false;
  for (int step = 0; step < 20 && !done; ++step) {
    auto a = plan(st, target, self);
    auto& m = st.membership;
    auto erase = [](std::vector<raft::node_id>& v, raft::node_id x) {
      v.erase(std::remove(v.begin(), v.end(), x), v.end());
    };
    switch (a.what) {
      case kind::done:
        done = true;
        break;
      case kind::wait:
        FAIL("unexpected wait: " << a.reason);
        break;
      case kind::transfer:
        self = a.transfer_to.value;
        st.leader = a.transfer_to;
        break;
      case kind::change:
        if (a.change.type == ck::add_learner) {
          m.learners.push_back(a.change.node);
          st.in_sync.push_back(a.change.node);  // catches up at once here
        } else if (a.change.type == ck::promote) {
          erase(m.learners, a.change.node);
          m.voters.push_back(a.change.node);
        } else if (a.change.type == ck::remove) {
          CHECK(a.change.node != n(self));
          erase(m.voters, a.change.node);
          erase(m.learners, a.change.node);
        }
        std::sort(m.voters.begin(), m.voters.end());
        std::sort(m.learners.begin(), m.learners.end());
        // Never fewer voters than the smaller of the two sets.
        CHECK(m.voters.size() >= 3);
        break;
    }
  }
  REQUIRE(done);
  CHECK(st.membership.voters == std::vector<raft::node_id>{n(4), n(5), n(6)});
  CHECK(st.membership.learners.empty());
}

TEST_CASE("an empty or invalid target is refused", "[broker][reassign]") {
  auto st = leader_status({1}, {}, {1});
  auto a = plan_reassign_step(st, n(1), {});
  REQUIRE(!a.ok());
  CHECK(a.status().code() == errc::invalid_request);
  CHECK(!plan_reassign_step(st, n(1), {1, 0}).ok());
}
