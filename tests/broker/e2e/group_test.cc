// The Group service of a real kappad, driven with raw gRPC stubs:
// FindCoordinator (and the creation of __consumer_offsets), membership and
// assignment of two members, commits, fetches, describe with lag, fencing
// of zombies, delete, bad group ids, and committed offsets surviving a
// restart (replay of __consumer_offsets).
#include <set>

#include "broker/group/group_shard.h"
#include "kappa/v1/group.grpc.pb.h"
#include "tests/broker/e2e/kappad_fixture.h"

namespace kappa::e2e {
namespace {

using group_stub = v1::Group::Stub;

std::unique_ptr<group_stub> group_of(kappad& k) { return v1::Group::NewStub(k.channel); }

bool retriable(v1::ErrorCode c) {
  return c == v1::COORDINATOR_LOAD_IN_PROGRESS || c == v1::COORDINATOR_NOT_AVAILABLE;
}

// Retries (bounded) while the coordinator loads or the topic is created.
template <class Resp, class Call>
Resp call_until_ready(Call call) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    Resp r;
    grpc::ClientContext ctx;
    auto st = call(with_deadline(ctx), &r);
    INFO(st.error_message());
    REQUIRE(st.ok());
    if (!retriable(r.error_code())) return r;
    INFO(r.error_message());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
}

v1::FindCoordinatorResponse find_coordinator(group_stub& g, const std::string& group) {
  v1::FindCoordinatorRequest req;
  req.set_group_id(group);
  return call_until_ready<v1::FindCoordinatorResponse>(
      [&](grpc::ClientContext* c, v1::FindCoordinatorResponse* r) {
        return g.FindCoordinator(c, req, r);
      });
}

v1::GroupHeartbeatResponse heartbeat(group_stub& g, const v1::GroupHeartbeatRequest& req) {
  return call_until_ready<v1::GroupHeartbeatResponse>(
      [&](grpc::ClientContext* c, v1::GroupHeartbeatResponse* r) { return g.Heartbeat(c, req, r); });
}

v1::CommitOffsetsResponse commit(group_stub& g, const std::string& group, const std::string& member,
                                 int32_t epoch, const std::string& topic, int32_t partition,
                                 int64_t offset) {
  v1::CommitOffsetsRequest req;
  req.set_group_id(group);
  req.set_member_id(member);
  req.set_member_epoch(epoch);
  auto* t = req.add_topics();
  t->set_topic(topic);
  auto* p = t->add_partitions();
  p->set_partition(partition);
  p->set_offset(offset);
  p->set_leader_epoch(-1);
  p->set_metadata("m" + std::to_string(offset));
  return call_until_ready<v1::CommitOffsetsResponse>(
      [&](grpc::ClientContext* c, v1::CommitOffsetsResponse* r) { return g.CommitOffsets(c, req, r); });
}

// The committed offset of one partition (-1 when none).
int64_t fetched_offset(group_stub& g, const std::string& group, const std::string& topic,
                       int32_t partition) {
  v1::FetchOffsetsRequest req;
  req.set_group_id(group);
  auto* tp = req.add_partitions();
  tp->set_topic(topic);
  tp->add_partitions(partition);
  auto r = call_until_ready<v1::FetchOffsetsResponse>(
      [&](grpc::ClientContext* c, v1::FetchOffsetsResponse* out) { return g.FetchOffsets(c, req, out); });
  INFO(r.error_message());
  REQUIRE(r.error_code() == v1::NONE);
  for (const auto& t : r.topics()) {
    for (const auto& p : t.partitions()) {
      if (t.topic() == topic && p.partition() == partition) return p.offset();
    }
  }
  return -1;
}

v1::DescribeGroupResponse describe(group_stub& g, const std::string& group) {
  v1::DescribeGroupRequest req;
  req.set_group_id(group);
  return call_until_ready<v1::DescribeGroupResponse>(
      [&](grpc::ClientContext* c, v1::DescribeGroupResponse* r) { return g.DescribeGroup(c, req, r); });
}

std::set<int32_t> partitions_of(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& tps,
                                const std::string& topic) {
  std::set<int32_t> out;
  for (const auto& tp : tps) {
    if (tp.topic() == topic) out.insert(tp.partitions().begin(), tp.partitions().end());
  }
  return out;
}

// A member that heartbeats with what it owns (it lets go of revoked
// partitions at once).
struct member {
  std::string group;
  std::string topic;
  std::string id;
  int32_t epoch = 0;
  std::set<int32_t> owned;

  v1::GroupHeartbeatResponse beat(group_stub& g) {
    v1::GroupHeartbeatRequest req;
    req.set_group_id(group);
    req.set_member_id(id);
    req.set_member_epoch(epoch);
    req.add_subscribed_topics(topic);
    req.set_session_timeout_ms(30000);
    auto* o = req.add_owned();
    o->set_topic(topic);
    for (int32_t p : owned) o->add_partitions(p);
    auto r = heartbeat(g, req);
    INFO(r.error_message());
    REQUIRE(r.error_code() == v1::NONE);
    id = r.member_id();
    epoch = r.member_epoch();
    owned = partitions_of(r.assignment(), topic);
    return r;
  }

  void leave(group_stub& g) {
    v1::GroupHeartbeatRequest req;
    req.set_group_id(group);
    req.set_member_id(id);
    req.set_member_epoch(-1);
    auto r = heartbeat(g, req);
    INFO(r.error_message());
    REQUIRE(r.error_code() == v1::NONE);
  }
};

}  // namespace

TEST_CASE("FindCoordinator creates __consumer_offsets and names this broker", "[e2e][group]") {
  kappad k({"--offsets-topic-partitions", "4"});
  k.start();
  auto g = group_of(k);
  auto r = find_coordinator(*g, "orders-app");
  INFO(r.error_message());
  REQUIRE(r.error_code() == v1::NONE);
  CHECK(r.coordinator_id() == 1);
  CHECK(r.coordinator_address() == k.address);
  CHECK(r.partition() == broker::group::partition_for_group("orders-app", 4));

  grpc::ClientContext ctx;
  v1::DescribeTopicsRequest dreq;
  dreq.set_include_internal(true);
  v1::DescribeTopicsResponse dresp;
  REQUIRE(k.admin->DescribeTopics(with_deadline(ctx), dreq, &dresp).ok());
  bool found = false;
  for (const auto& t : dresp.topics()) {
    if (t.name() != "__consumer_offsets") continue;
    found = true;
    CHECK(t.is_internal());
    CHECK(t.partitions_size() == 4);
  }
  CHECK(found);
}

TEST_CASE("clients cannot create, delete or produce to __consumer_offsets", "[e2e][group]") {
  kappad k;
  k.start();
  auto g = group_of(k);
  REQUIRE(find_coordinator(*g, "g").error_code() == v1::NONE);

  auto p = produce(k, "__consumer_offsets", 0, make_batch({"forged"}));
  CHECK(p.error_code() == v1::INVALID_TOPIC_EXCEPTION);
  CHECK(p.error_message().find("internal") != std::string::npos);

  {
    grpc::ClientContext ctx;
    v1::DeleteTopicsRequest req;
    req.add_names("__consumer_offsets");
    v1::DeleteTopicsResponse resp;
    REQUIRE(k.admin->DeleteTopics(with_deadline(ctx), req, &resp).ok());
    REQUIRE(resp.results_size() == 1);
    CHECK(resp.results(0).error_code() == v1::INVALID_TOPIC_EXCEPTION);
  }
  {
    kappad fresh;
    fresh.start();
    grpc::ClientContext ctx;
    v1::CreateTopicsRequest req;
    req.add_topics()->set_name("__consumer_offsets");
    v1::CreateTopicsResponse resp;
    REQUIRE(fresh.admin->CreateTopics(with_deadline(ctx), req, &resp).ok());
    REQUIRE(resp.results_size() == 1);
    CHECK(resp.results(0).error_code() == v1::INVALID_TOPIC_EXCEPTION);
  }
}

TEST_CASE("bad group ids are INVALID_GROUP_ID", "[e2e][group]") {
  kappad k;
  k.start();
  auto g = group_of(k);
  for (const std::string& bad : {std::string(), std::string(250, 'x')}) {
    grpc::ClientContext c1;
    v1::FindCoordinatorRequest fr;
    fr.set_group_id(bad);
    v1::FindCoordinatorResponse f;
    REQUIRE(g->FindCoordinator(with_deadline(c1), fr, &f).ok());
    CHECK(f.error_code() == v1::INVALID_GROUP_ID);

    grpc::ClientContext c2;
    v1::GroupHeartbeatRequest hr;
    hr.set_group_id(bad);
    hr.add_subscribed_topics("t");
    v1::GroupHeartbeatResponse h;
    REQUIRE(g->Heartbeat(with_deadline(c2), hr, &h).ok());
    CHECK(h.error_code() == v1::INVALID_GROUP_ID);
  }
}

TEST_CASE("two members split a topic, commit, fetch and see lag; zombies and deletes are refused",
          "[e2e][group]") {
  kappad k({"--offsets-topic-partitions", "3"});
  k.start();
  create_topic(k, "events", 4);
  for (int p = 0; p < 4; ++p) wait_for_first_term(k, "events", p);
  auto g = group_of(k);
  REQUIRE(find_coordinator(*g, "app").error_code() == v1::NONE);

  member a{"app", "events"};
  a.beat(*g);
  CHECK(!a.id.empty());
  CHECK(a.epoch > 0);
  for (int i = 0; i < 20 && a.owned.size() < 4; ++i) a.beat(*g);
  CHECK(a.owned == std::set<int32_t>{0, 1, 2, 3});

  member b{"app", "events"};
  b.beat(*g);
  // Reconcile: a gives up two partitions, b takes them once released.
  for (int i = 0; i < 50 && (a.owned.size() != 2 || b.owned.size() != 2); ++i) {
    a.beat(*g);
    b.beat(*g);
  }
  INFO("a owns " << a.owned.size() << ", b owns " << b.owned.size());
  REQUIRE(a.owned.size() == 2);
  REQUIRE(b.owned.size() == 2);
  std::set<int32_t> all = a.owned;
  all.insert(b.owned.begin(), b.owned.end());
  CHECK(all == std::set<int32_t>{0, 1, 2, 3});

  // Records on a's first partition; a commits 2 of them.
  const int32_t pa = *a.owned.begin();
  for (int i = 0; i < 5; ++i) REQUIRE(produce(k, "events", pa, make_batch({"v"})).error_code() == v1::NONE);
  const int64_t hw = latest_offset(k, "events", pa);
  const int64_t committed = hw - 3;
  auto c = commit(*g, "app", a.id, a.epoch, "events", pa, committed);
  INFO(c.error_message());
  REQUIRE(c.error_code() == v1::NONE);
  REQUIRE(c.topics_size() == 1);
  CHECK(c.topics(0).partitions(0).error_code() == v1::NONE);
  CHECK(fetched_offset(*g, "app", "events", pa) == committed);

  auto d = describe(*g, "app");
  INFO(d.error_message());
  REQUIRE(d.error_code() == v1::NONE);
  CHECK(d.members_size() == 2);
  CHECK(d.coordinator_id() == 1);
  bool seen = false;
  for (const auto& o : d.offsets()) {
    if (o.topic() != "events" || o.partition() != pa) continue;
    seen = true;
    CHECK(o.committed_offset() == committed);
    CHECK(o.high_watermark() == hw);
    CHECK(o.lag() == 3);
  }
  CHECK(seen);

  // A zombie: an older epoch, or a member id the group never had.
  auto stale = commit(*g, "app", a.id, a.epoch - 1, "events", pa, committed + 1);
  CHECK(stale.error_code() == v1::STALE_MEMBER_EPOCH);
  auto unknown = commit(*g, "app", "no-such-member", a.epoch, "events", pa, committed + 1);
  CHECK(unknown.error_code() == v1::UNKNOWN_MEMBER_ID);
  CHECK(fetched_offset(*g, "app", "events", pa) == committed);

  // No delete while it has members.
  {
    grpc::ClientContext ctx;
    v1::DeleteGroupRequest req;
    req.set_group_id("app");
    v1::DeleteGroupResponse resp;
    REQUIRE(g->DeleteGroup(with_deadline(ctx), req, &resp).ok());
    CHECK(resp.error_code() == v1::NON_EMPTY_GROUP);
  }
  {
    grpc::ClientContext ctx;
    v1::ListGroupsResponse resp;
    REQUIRE(g->ListGroups(with_deadline(ctx), {}, &resp).ok());
    REQUIRE(resp.groups_size() == 1);
    CHECK(resp.groups(0).group_id() == "app");
    CHECK(resp.groups(0).members() == 2);
    CHECK(resp.groups(0).coordinator_id() == 1);
  }
  a.leave(*g);
  b.leave(*g);
  {
    grpc::ClientContext ctx;
    v1::DeleteGroupRequest req;
    req.set_group_id("app");
    v1::DeleteGroupResponse resp;
    REQUIRE(g->DeleteGroup(with_deadline(ctx), req, &resp).ok());
    INFO(resp.error_message());
    CHECK(resp.error_code() == v1::NONE);
  }
  CHECK(describe(*g, "app").error_code() == v1::GROUP_ID_NOT_FOUND);
  CHECK(fetched_offset(*g, "app", "events", pa) == -1);
}

TEST_CASE("committed offsets survive a restart (the coordinator replays __consumer_offsets)",
          "[e2e][group]") {
  kappad k({"--offsets-topic-partitions", "2"});
  k.start();
  create_topic(k, "t", 2);
  auto g = group_of(k);
  REQUIRE(find_coordinator(*g, "keeper").error_code() == v1::NONE);
  // Admin commits (no member): the group exists, empty.
  for (int32_t p = 0; p < 2; ++p) {
    auto c = commit(*g, "keeper", "", -1, "t", p, 10 + p);
    INFO(c.error_message());
    REQUIRE(c.error_code() == v1::NONE);
  }
  REQUIRE(commit(*g, "keeper", "", -1, "t", 0, 42).error_code() == v1::NONE);

  SECTION("clean stop") { REQUIRE(k.stop(SIGTERM) == 0); }
  SECTION("SIGKILL") { k.stop(SIGKILL); }
  k.start();
  g = group_of(k);
  REQUIRE(find_coordinator(*g, "keeper").error_code() == v1::NONE);
  CHECK(fetched_offset(*g, "keeper", "t", 0) == 42);
  CHECK(fetched_offset(*g, "keeper", "t", 1) == 11);
  auto d = describe(*g, "keeper");
  REQUIRE(d.error_code() == v1::NONE);
  CHECK(d.state() == "Empty");
}

}  // namespace kappa::e2e
