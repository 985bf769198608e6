// Streams that end: the peer restarts, moves, is removed; shutdown while
// traffic flows.
#include <catch2/catch.hpp>

#include "tests/replication/transport/transport_fixture.h"

namespace kappa::replication::test {
namespace {

TEST_CASE("the dialer reconnects after the peer's server stops and restarts on its port",
          "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  int port = n2.port();

  n2.stop_server();
  REQUIRE(eventually([&] { return !n1.t().connected(n2.id()) && !n2.t().connected(n1.id()); }));
  n1.t().send("g", heartbeat(2));  // nobody to send to: dropped, not queued
  CHECK(n1.t().get_stats().messages_dropped >= 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few failed redials

  n2.start_server(port);
  REQUIRE(n2.port() == port);
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()) && n2.t().connected(n1.id()); }));
  n1.t().send("g", heartbeat(2, 3));
  n2.t().send("g", heartbeat(1, 4));
  REQUIRE(eventually([&] { return n2.count() == 1 && n1.count() == 1; }));
  CHECK(n2.got()[0].m.term == raft::term_id(3));
  CHECK(n1.got()[0].m.term == raft::term_id(4));
  CHECK(n1.t().get_stats().streams_dialed >= 2);
}

TEST_CASE("a restarted dialer's new stream replaces its old one at the acceptor", "[transport]") {
  auto n1 = std::make_unique<test_node>(1);
  test_node n2(2);
  mesh({n1.get(), &n2});
  REQUIRE(eventually([&] { return n2.t().connected(n1->id()); }));
  n1.reset();
  n1 = std::make_unique<test_node>(1);
  n1->t().set_peer(n2.as_peer());
  n2.t().set_peer(n1->as_peer());  // a new internal port; the acceptor does not dial it
  REQUIRE(eventually([&] { return n1->t().connected(n2.id()) && n2.t().connected(n1->id()); }));
  n2.t().send("g", heartbeat(1, 11));
  REQUIRE(eventually([&] { return n1->count() == 1; }));
  CHECK(n2.t().get_stats().streams_accepted == 2);
}

TEST_CASE("a peer whose address changes is redialled at once", "[transport]") {
  test_node n1(1), n2(2);
  n2.t().set_peer(n1.as_peer());
  n1.t().set_peer({n2.id(), "127.0.0.1:1"});                     // nothing listens there
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // backoff grows to ~800 ms
  CHECK_FALSE(n1.t().connected(n2.id()));
  auto before = std::chrono::steady_clock::now();
  n1.t().set_peer(n2.as_peer());
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  // Generous for slow sanitizer builds; the backoff alone would be >= 800 ms.
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(5000));
  n1.t().send("g", heartbeat(2));
  REQUIRE(eventually([&] { return n2.count() == 1; }));
}

TEST_CASE("remove_peer ends the stream and the removed node is refused", "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  n2.t().remove_peer(n1.id());
  CHECK_FALSE(n2.t().connected(n1.id()));
  REQUIRE(eventually([&] { return n2.t().get_stats().streams_refused >= 1; }));
  CHECK_FALSE(n2.t().connected(n1.id()));
  n2.t().send("g", heartbeat(1));
  CHECK(n2.t().get_stats().messages_dropped == 1);

  n1.t().remove_peer(n2.id());
  CHECK_FALSE(n1.t().connected(n2.id()));
  auto dialed = n1.t().get_stats().streams_dialed;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(n1.t().get_stats().streams_dialed == dialed);  // no more dialling
}

TEST_CASE("peer churn while traffic flows: streams end and come back, nothing leaks",
          "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (uint64_t i = 0; i < 1'000'000 && !stop; ++i) {
      n1.t().send("g", heartbeat(2, i));
      n2.t().send("g", heartbeat(1, i));
      if (i % 32 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int round = 0; round < 30; ++round) {
    switch (round % 3) {
      case 0:  // the acceptor forgets the dialer and learns it again
        n2.t().remove_peer(n1.id());
        n2.t().set_peer(n1.as_peer());
        break;
      case 1:  // the dialer is pointed elsewhere and back
        n1.t().set_peer({n2.id(), "127.0.0.1:1"});
        n1.t().set_peer(n2.as_peer());
        break;
      case 2:  // the dialer forgets the acceptor and learns it again
        n1.t().remove_peer(n2.id());
        n1.t().set_peer(n2.as_peer());
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()) && n2.t().connected(n1.id()); }));
  size_t before = n2.count();
  REQUIRE(eventually([&] { return n2.count() > before + 100; }));  // traffic flows again
  stop = true;
  sender.join();
  for (test_node* n : {&n1, &n2}) {
    for (const received& r : n->got()) {
      REQUIRE(r.m.to == n->id());
      REQUIRE(r.m.from == (n == &n1 ? n2.id() : n1.id()));
    }
  }
}

TEST_CASE("shutdown while traffic flows is clean, and later sends are dropped", "[transport]") {
  auto n1 = std::make_unique<test_node>(1);
  auto n2 = std::make_unique<test_node>(2);
  auto n3 = std::make_unique<test_node>(3);
  std::vector<test_node*> all = {n1.get(), n2.get(), n3.get()};
  // Every node answers every message from its handler: sends on gRPC threads.
  for (test_node* n : all) {
    grpc_transport* t = &n->t();
    n->on_message = [t](const group_name& g, const raft::message& m) {
      raft::message resp;
      resp.type = raft::message_type::heartbeat_resp;
      resp.to = m.from;
      t->send(g, resp);
    };
  }
  mesh(all);
  REQUIRE(eventually([&] {
    return n1->t().connected(n2->id()) && n1->t().connected(n3->id()) &&
           n2->t().connected(n3->id());
  }));

  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (test_node* n : all) {
    senders.emplace_back([n, &all, &stop] {
      raft::message big = heartbeat(0);
      big.type = raft::message_type::append;
      big.entries = {{raft::term_id(1), raft::log_index(0), raft::log_index(9),
                      raft::entry_type::normal, std::string(16 << 10, 'x')}};
      for (int i = 0; i < 200'000 && !stop; ++i) {
        for (test_node* to : all) {
          if (to == n) continue;
          raft::message m = i % 8 == 0 ? big : heartbeat(0);
          m.to = to->id();
          n->t().send("group-" + std::to_string(i % 50), std::move(m));
        }
        if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  REQUIRE(eventually([&] { return n1->count() > 500 && n3->count() > 500; }));

  n2->t().shutdown();  // mid-traffic, its peers still running
  CHECK_FALSE(n2->t().connected(n1->id()));
  auto dropped = n2->t().get_stats().messages_dropped;
  n2->t().send("g", heartbeat(1));
  CHECK(n2->t().get_stats().messages_dropped == dropped + 1);
  size_t n2_count = n2->count();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(n2->count() == n2_count);  // no handler call after shutdown() returned
  REQUIRE(eventually([&] { return !n1->t().connected(n2->id()); }));

  n1->t().shutdown();
  n1->t().shutdown();  // idempotent
  stop = true;
  for (std::thread& s : senders) s.join();
  n3.reset();  // server, then transport
  n2.reset();
  n1.reset();
}

}  // namespace
}  // namespace kappa::replication::test
