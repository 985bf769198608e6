// One stream per broker pair, both directions on it, identity from the
// stream, refusals of strangers.
#include <catch2/catch.hpp>

#include "tests/replication/transport/transport_fixture.h"

namespace kappa::replication::test {
namespace {

TEST_CASE("two transports deliver both ways over the one stream the lower id dials",
          "[transport]") {
  test_node n1(1), n2(2);
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n1.t().connected(n2.id()) && n2.t().connected(n1.id()); }));

  n1.t().send("orders-0", heartbeat(2, 5));
  n2.t().send(kControllerGroup, heartbeat(1, 6));
  REQUIRE(eventually([&] { return n1.count() == 1 && n2.count() == 1; }));

  received at2 = n2.got()[0];
  CHECK(at2.group == "orders-0");
  CHECK(at2.m.type == raft::message_type::heartbeat);
  CHECK(at2.m.term == raft::term_id(5));
  CHECK(at2.m.from == n1.id());
  CHECK(at2.m.to == n2.id());
  received at1 = n1.got()[0];
  CHECK(at1.group == kControllerGroup);
  CHECK(at1.m.from == n2.id());
  CHECK(at1.m.to == n1.id());

  auto s1 = n1.t().get_stats(), s2 = n2.t().get_stats();
  CHECK(s1.streams_dialed == 1);  // one stream for the pair, both directions
  CHECK(s1.streams_accepted == 0);
  CHECK(s2.streams_dialed == 0);
  CHECK(s2.streams_accepted == 1);
  CHECK(s1.messages_sent == 1);
  CHECK(s2.messages_sent == 1);
}

TEST_CASE("three transports: one stream per pair, every message from the right node",
          "[transport]") {
  test_node n1(1), n2(2), n3(3);
  std::vector<test_node*> all = {&n1, &n2, &n3};
  mesh(all);
  REQUIRE(eventually([&] {
    for (test_node* a : all) {
      for (test_node* b : all) {
        if (a != b && !a->t().connected(b->id())) return false;
      }
    }
    return true;
  }));
  for (test_node* a : all) {
    for (test_node* b : all) {
      if (a == b) continue;
      for (int i = 0; i < 10; ++i) a->t().send("g", heartbeat(b->id().value, a->id().value));
    }
  }
  REQUIRE(eventually([&] { return n1.count() == 20 && n2.count() == 20 && n3.count() == 20; }));
  for (test_node* b : all) {
    for (const received& r : b->got()) {
      CHECK(r.m.to == b->id());
      CHECK(r.m.from.value == r.m.term.value);  // the sender wrote its id into the term
    }
  }
  // The lower id dials: 1 dials 2 and 3, 2 dials 3.
  CHECK(n1.t().get_stats().streams_dialed == 2);
  CHECK(n2.t().get_stats().streams_dialed == 1);
  CHECK(n3.t().get_stats().streams_dialed == 0);
  CHECK(n1.t().get_stats().streams_accepted == 0);
  CHECK(n2.t().get_stats().streams_accepted == 1);
  CHECK(n3.t().get_stats().streams_accepted == 2);
}

TEST_CASE("from and to forged in the frame are overwritten with the stream's identities",
          "[transport]") {
  SECTION("through a transport") {
    test_node n1(1), n2(2);
    mesh({&n1, &n2});
    REQUIRE(eventually([&] { return n1.t().connected(n2.id()); }));
    raft::message m = heartbeat(2);
    m.from = raft::node_id(99);
    n1.t().send("g", m);
    REQUIRE(eventually([&] { return n2.count() == 1; }));
    CHECK(n2.got()[0].m.from == n1.id());
  }
  SECTION("by hand, after a valid Hello") {
    test_node n2(2);
    n2.t().set_peer({raft::node_id(1), "127.0.0.1:1"});
    raw_client c(n2.address());
    REQUIRE(c.hello(kCluster, 1));
    pb::Envelope reply;
    REQUIRE(c.read(&reply));
    CHECK(reply.hello().node_id() == 2);
    CHECK(reply.hello().cluster_id() == kCluster);

    pb::Envelope e;
    pb::GroupMessage* gm = e.add_messages();
    gm->set_group("g");
    gm->mutable_m()->set_type(pb::VOTE);
    gm->mutable_m()->set_from(3);
    gm->mutable_m()->set_to(7);
    gm->mutable_m()->set_term(9);
    REQUIRE(c.write(e));
    REQUIRE(eventually([&] { return n2.count() == 1; }));
    raft::message got = n2.got()[0].m;
    CHECK(got.type == raft::message_type::vote);
    CHECK(got.from == raft::node_id(1));
    CHECK(got.to == raft::node_id(2));
    CHECK(got.term == raft::term_id(9));
    CHECK(n2.t().connected(raft::node_id(1)));
    CHECK(c.finish().ok());
    CHECK(eventually([&] { return !n2.t().connected(raft::node_id(1)); }));
  }
}

TEST_CASE("an undecodable message is dropped and the stream stays up", "[transport]") {
  test_node n2(2);
  n2.t().set_peer({raft::node_id(1), "127.0.0.1:1"});
  raw_client c(n2.address());
  REQUIRE(c.hello(kCluster, 1));
  pb::Envelope reply;
  REQUIRE(c.read(&reply));
  pb::Envelope e;
  e.add_messages()->mutable_m()->set_type(static_cast<pb::MessageType>(77));  // from the future
  pb::GroupMessage* ok = e.add_messages();
  ok->set_group("g");
  ok->mutable_m()->set_type(pb::HEARTBEAT);
  REQUIRE(c.write(e));
  REQUIRE(eventually([&] { return n2.count() == 1; }));
  CHECK(n2.got()[0].m.type == raft::message_type::heartbeat);
  CHECK(n2.t().get_stats().messages_rejected == 1);
  CHECK(n2.t().connected(raft::node_id(1)));
  CHECK(c.finish().ok());
}

// Connects by hand with `hello` and returns how the acceptor ended the call.
grpc::Status refused_status(test_node& n, const std::string& cluster, uint64_t node) {
  raw_client c(n.address());
  c.hello(cluster, node);
  pb::Envelope e;
  if (c.read(&e)) return grpc::Status(grpc::StatusCode::OK, "accepted?!");
  return c.finish();
}

TEST_CASE("strangers are refused: another cluster, an unknown node, itself, a higher id",
          "[transport]") {
  test_node n2(2);
  n2.t().set_peer({raft::node_id(1), "127.0.0.1:1"});
  n2.t().set_peer({raft::node_id(3), "127.0.0.1:1"});

  grpc::Status s = refused_status(n2, "other-cluster", 1);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(s.error_message(), Catch::Contains("cluster 'other-cluster'"));

  s = refused_status(n2, kCluster, 5);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(s.error_message(), Catch::Contains("node 5 is not a known peer of node 2"));

  s = refused_status(n2, kCluster, 2);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);

  s = refused_status(n2, kCluster, 3);  // 2 dials 3, never the other way round
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  {
    raw_client c(n2.address());
    pb::Envelope no_hello;
    no_hello.add_messages()->set_group("g");
    c.write(no_hello);
    pb::Envelope e;
    CHECK_FALSE(c.read(&e));
    CHECK(c.finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }

  CHECK(n2.count() == 0);
  CHECK(n2.t().get_stats().streams_refused == 5);
  CHECK(n2.t().get_stats().streams_accepted == 0);
}

TEST_CASE("the dialer hangs up on an acceptor that is not the node it meant to reach",
          "[transport]") {
  test_node n1(1), n2(2);
  n2.t().set_peer(n1.as_peer());
  n1.t().set_peer({raft::node_id(3), n2.address()});  // a stale address: node 2 is there now
  REQUIRE(eventually([&] { return n2.t().get_stats().streams_accepted >= 2; }));  // it retries
  CHECK_FALSE(n1.t().connected(raft::node_id(3)));
  n1.t().send("g", heartbeat(3));
  CHECK(n1.t().get_stats().messages_dropped == 1);
  REQUIRE(eventually([&] { return !n2.t().connected(n1.id()); }));
  CHECK(n2.count() == 0);
}

TEST_CASE("transports of different clusters never connect", "[transport]") {
  test_node n1(1, "cluster-a"), n2(2, "cluster-b");
  mesh({&n1, &n2});
  REQUIRE(eventually([&] { return n2.t().get_stats().streams_refused >= 2; }));  // it retries
  CHECK_FALSE(n1.t().connected(n2.id()));
  CHECK_FALSE(n2.t().connected(n1.id()));
  n1.t().send("g", heartbeat(2));
  CHECK(n1.t().get_stats().messages_dropped == 1);
}

TEST_CASE("a newer stream from the same peer replaces the older one", "[transport]") {
  test_node n2(2);
  n2.t().set_peer({raft::node_id(1), "127.0.0.1:1"});
  raw_client old_c(n2.address()), new_c(n2.address());
  pb::Envelope e;
  REQUIRE(old_c.hello(kCluster, 1));
  REQUIRE(old_c.read(&e));
  REQUIRE(new_c.hello(kCluster, 1));
  REQUIRE(new_c.read(&e));
  CHECK_FALSE(old_c.read(&e));
  grpc::Status s = old_c.finish();
  CHECK(s.error_code() == grpc::StatusCode::ABORTED);
  CHECK_THAT(s.error_message(), Catch::Contains("replaced"));

  n2.t().send("g", heartbeat(1, 8));  // goes to the new stream
  REQUIRE(new_c.read(&e));
  REQUIRE(e.messages_size() == 1);
  CHECK(e.messages(0).m().term() == 8);
  CHECK(new_c.finish().ok());
}

}  // namespace
}  // namespace kappa::replication::test
