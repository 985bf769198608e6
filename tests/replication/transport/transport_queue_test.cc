// Sends: coalescing into envelopes, the per-peer queue cap, large envelopes.
#include <catch2/catch.hpp>

#include "tests/replication/transport/transport_fixture.h"

namespace kappa::replication::test {
namespace {

raft::message append_with(uint64_t to, size_t payload_bytes, uint64_t term) {
  raft::message m;
  m.type = raft::message_type::append;
  m.to = raft::node_id(to);
  m.term = raft::term_id(term);
  m.entries = {{raft::term_id(term), raft::log_index(0), raft::log_index(0),
                raft::entry_type::normal, std::string(payload_bytes, 'p')}};
  return m;
}

TEST_CASE("1000 heartbeats sent at once leave in far fewer envelopes and in order", "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  for (uint64_t i = 1; i <= 1000; ++i) n1.t().send("g-" + std::to_string(i % 100), heartbeat(2, i));
  REQUIRE(eventually([&] { return n2.count() == 1000; }));
  auto got = n2.got();
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].m.term == raft::term_id(i + 1));
  auto s1 = n1.t().get_stats();
  INFO("1000 heartbeats left in " << s1.envelopes_sent << " envelopes");
  CHECK(s1.messages_sent == 1000);
  CHECK(s1.messages_dropped == 0);
  CHECK(s1.envelopes_sent < 100);
  CHECK(n2.t().get_stats().envelopes_received == s1.envelopes_sent);
  CHECK(n2.t().get_stats().messages_received == 1000);
}

TEST_CASE("over the queue cap, sends are dropped and counted", "[transport]") {
  test_node n1(1, kCluster, 64 << 10), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  constexpr uint64_t kSends = 200;
  for (uint64_t i = 0; i < kSends; ++i) n1.t().send("g", append_with(2, 8 << 10, 1));
  auto s1 = n1.t().get_stats();
  CHECK(s1.messages_dropped > 0);
  // At most the cap waits in the queue (8 messages of 8 KiB) besides what is
  // already on the wire.
  CHECK(s1.messages_dropped + s1.messages_sent + 8 >= kSends);
  REQUIRE(eventually([&] {
    auto s = n1.t().get_stats();
    return s.messages_sent + s.messages_dropped == kSends;
  }));
  s1 = n1.t().get_stats();
  REQUIRE(eventually([&] { return n2.count() == s1.messages_sent; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(n2.count() == s1.messages_sent);
}

TEST_CASE("a message too large for the wire is dropped; the stream stays up", "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  n1.t().send("g", append_with(2, grpc_transport::kMessageBytesMax, 1));
  CHECK(n1.t().get_stats().messages_dropped == 1);
  n1.t().send("g", heartbeat(2, 2));
  REQUIRE(eventually([&] { return n2.count() == 1; }));
  CHECK(n2.got()[0].m.term == raft::term_id(2));
  CHECK(n1.t().get_stats().streams_dialed == 1);
}

TEST_CASE("messages to an unknown or unconnected peer are dropped and counted", "[transport]") {
  test_node n1(1);
  n1.t().send("g", heartbeat(7));  // not a peer
  n1.t().set_peer({raft::node_id(2), "127.0.0.1:1"});
  n1.t().send("g", heartbeat(2));  // a peer, but no stream
  CHECK(n1.t().get_stats().messages_dropped == 2);
  CHECK(n1.t().get_stats().messages_sent == 0);
}

TEST_CASE("a large backlog is cut into envelopes of at most ~8 MiB; big messages arrive whole",
          "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  // 6 MiB messages: bigger than gRPC's 4 MiB default, two never share an
  // envelope.
  constexpr size_t kPayload = 6 << 20;
  for (uint64_t i = 1; i <= 4; ++i) {
    n1.t().send("g", append_with(2, kPayload, i));
    n2.t().send("g", append_with(1, kPayload, i));
  }
  REQUIRE(eventually([&] { return n2.count() == 4 && n1.count() == 4; }, 20'000));
  for (test_node* n : {&n1, &n2}) {
    auto got = n->got();
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].m.term == raft::term_id(i + 1));
      REQUIRE(got[i].m.entries.size() == 1);
      CHECK(got[i].m.entries[0].payload.size() == kPayload);
    }
    CHECK(n->t().get_stats().envelopes_sent == 4);
  }
}

}  // namespace
}  // namespace kappa::replication::test
