// The Group service of a real kappad, driven with raw gRPC stubs:
// FindCoordinator (and the creation of __consumer_offsets), membership and
// assignment of two members, commits, fetches, describe with lag, fencing
// of zombies, delete, bad group ids, and committed offsets surviving a
// restart (replay of __consumer_offsets).
#include <set>
#include <sys/socket.h>

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

// A kappad with arguments of the test's choosing (the fixture fixes
// --metrics-listen and the node layout): several of them make a cluster.
struct broker_proc {
  broker_proc(std::string dir, std::vector<std::string> args) : dir_(std::move(dir)) {
    port = kappa::test::unused_port();
    address = "127.0.0.1:" + std::to_string(port);
    args.insert(args.begin(), {KAPPA_BINARY_DIR "/broker/kappad", "--listen", address,
                               "--data-dir", dir_ + "/data", "--log-level", "warn"});
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      FILE* f = std::freopen((dir_ + "/kappad.log").c_str(), "a", stdout);
      (void)f;
      dup2(fileno(stdout), STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    channel = test_channel(address);
    admin = v1::Admin::NewStub(channel);
    group = v1::Group::NewStub(channel);
  }
  ~broker_proc() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void wait_ready() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      v1::DescribeClusterResponse r;
      if (admin->DescribeCluster(&ctx, {}, &r).ok()) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("kappad at " << address << " did not answer within 30 s");
  }

  std::string dir_;
  pid_t pid_ = -1;
  int port = 0;
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Group::Stub> group;
};

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/kappa_group_e2e_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string sub(const std::string& name) const {
    std::filesystem::create_directories(path + "/" + name);
    return path + "/" + name;
  }
  std::string path;
};

// GET /metrics on 127.0.0.1:port ("" when it cannot be read).
std::string scrape(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::send(fd, req.data(), req.size(), 0) == ssize_t(req.size())) {
      char buf[4096];
      for (int i = 0; i < 10000; ++i) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, size_t(n));
      }
    }
  }
  ::close(fd);
  return out;
}

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
  int uncommitted = 0;
  for (const auto& o : d.offsets()) {
    if (o.topic() == "events" && o.partition() != pa) {
      // Owned, nothing committed: the whole log (from its start, 0) is lag.
      ++uncommitted;
      CHECK(o.committed_offset() == -1);
      CHECK(o.high_watermark() == latest_offset(k, "events", o.partition()));
      CHECK(o.lag() == o.high_watermark());
      CHECK(!o.owner_member_id().empty());
    }
    if (o.topic() != "events" || o.partition() != pa) continue;
    seen = true;
    CHECK(o.committed_offset() == committed);
    CHECK(o.high_watermark() == hw);
    CHECK(o.lag() == 3);
  }
  CHECK(seen);
  CHECK(uncommitted == 3);

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

TEST_CASE("the coordinator exports lag, committed offsets, state and members", "[e2e][group]") {
  temp_dir dir;
  const int metrics_port = kappa::test::unused_port();
  broker_proc k(dir.sub("b"), {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port),
                                "--offsets-topic-partitions", "2"});
  k.wait_ready();
  {
    grpc::ClientContext ctx;
    v1::CreateTopicsRequest req;
    auto* t = req.add_topics();
    t->set_name("m");
    t->set_partitions(1);
    v1::CreateTopicsResponse resp;
    REQUIRE(k.admin->CreateTopics(with_deadline(ctx), req, &resp).ok());
    REQUIRE(resp.results(0).error_code() == v1::NONE);
  }
  auto& g = *k.group;
  REQUIRE(find_coordinator(g, "watched").error_code() == v1::NONE);
  member m{"watched", "m"};
  for (int i = 0; i < 20 && m.owned.empty(); ++i) m.beat(g);
  REQUIRE(m.owned == std::set<int32_t>{0});
  REQUIRE(commit(g, "watched", m.id, m.epoch, "m", 0, 0).error_code() == v1::NONE);
  // Lag = high watermark - 0 (the first leader term's control batch at least).
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    text = scrape(metrics_port);
    if (text.find("kappa_group_lag{") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(text.substr(0, 4000));
  CHECK(text.find("kappa_group_committed_offset{group=\"watched\",partition=\"0\",topic=\"m\"} 0") !=
        std::string::npos);
  CHECK(text.find("kappa_group_lag{group=\"watched\",partition=\"0\",topic=\"m\"}") !=
        std::string::npos);
  CHECK(text.find("kappa_group_members{group=\"watched\"} 1") != std::string::npos);
  CHECK(text.find("kappa_group_state{group=\"watched\",state=") != std::string::npos);
  CHECK(text.find("kappa_group_rebalances_total{group=\"watched\"}") != std::string::npos);
  CHECK(text.find("kappa_group_commit_latency_seconds_count 1") != std::string::npos);
}

TEST_CASE("in a three-broker cluster a non-coordinator answers NOT_COORDINATOR with the address",
          "[e2e][group]") {
  temp_dir dir;
  std::vector<int> internal;
  std::string voters;
  for (int id = 1; id <= 3; ++id) {
    internal.push_back(kappa::test::unused_port());
    voters += (id > 1 ? "," : "") + std::to_string(id) + "@127.0.0.1:" + std::to_string(internal.back());
  }
  std::vector<std::unique_ptr<broker_proc>> brokers;
  for (int id = 1; id <= 3; ++id) {
    brokers.push_back(std::make_unique<broker_proc>(
        dir.sub("b" + std::to_string(id)),
        std::vector<std::string>{"--node-id", std::to_string(id), "--internal-listen",
                                 "127.0.0.1:" + std::to_string(internal[size_t(id - 1)]),
                                 "--controller-voters", voters, "--metrics-listen", "",
                                 "--offsets-topic-partitions", "6"}));
  }
  for (auto& b : brokers) b->wait_ready();
  // Wait (bounded) until all three are live, so the topic gets 3 replicas.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    grpc::ClientContext ctx;
    v1::DescribeClusterResponse r;
    REQUIRE(brokers[0]->admin->DescribeCluster(with_deadline(ctx), {}, &r).ok());
    int live = 0;
    for (const auto& b : r.brokers()) live += b.alive() ? 1 : 0;
    if (live == 3) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  auto f = find_coordinator(*brokers[1]->group, "spread");
  INFO(f.error_message());
  REQUIRE(f.error_code() == v1::NONE);
  REQUIRE(f.coordinator_id() >= 1);
  REQUIRE(f.coordinator_id() <= 3);
  const int coord = f.coordinator_id();
  CHECK(f.coordinator_address() == brokers[size_t(coord - 1)]->address);
  // Every broker names the same coordinator.
  for (auto& b : brokers) CHECK(find_coordinator(*b->group, "spread").coordinator_id() == coord);

  const int other = coord % 3 + 1;
  v1::GroupHeartbeatRequest req;
  req.set_group_id("spread");
  req.add_subscribed_topics("nothing-yet");
  auto wrong = heartbeat(*brokers[size_t(other - 1)]->group, req);
  CHECK(wrong.error_code() == v1::NOT_COORDINATOR);
  CHECK(wrong.coordinator().coordinator_id() == coord);
  CHECK(wrong.coordinator().coordinator_address() == brokers[size_t(coord - 1)]->address);

  auto right = heartbeat(*brokers[size_t(coord - 1)]->group, req);
  INFO(right.error_message());
  CHECK(right.error_code() == v1::NONE);
  CHECK(!right.member_id().empty());
}

TEST_CASE("an append the partition refuses fails the call retriably and the shard is rebuilt",
          "[e2e][group]") {
  kappad k({"--offsets-topic-partitions", "1"});
  k.start();
  create_topic(k, "t", 1);
  auto g = group_of(k);
  REQUIRE(find_coordinator(*g, "big").error_code() == v1::NONE);
  REQUIRE(commit(*g, "big", "", -1, "t", 0, 7).error_code() == v1::NONE);

  // The internal topic's batch limit lowered below the group's metadata
  // record: the join's append fails.
  auto set_max = [&](const std::string& bytes) {
    grpc::ClientContext ctx;
    v1::AlterConfigsRequest req;
    auto* c = req.add_changes();
    c->set_topic("__consumer_offsets");
    (*c->mutable_set())["max.message.bytes"] = bytes;
    v1::AlterConfigsResponse resp;
    REQUIRE(k.admin->AlterConfigs(with_deadline(ctx), req, &resp).ok());
    REQUIRE(resp.results_size() == 1);
    INFO(resp.results(0).error_message());
    REQUIRE(resp.results(0).error_code() == v1::NONE);
  };
  set_max("100");
  v1::GroupHeartbeatRequest join;
  join.set_group_id("big");
  join.add_subscribed_topics("t");
  join.set_client_id(std::string(500, 'c'));
  {
    grpc::ClientContext ctx;
    v1::GroupHeartbeatResponse r;
    REQUIRE(g->Heartbeat(with_deadline(ctx), join, &r).ok());
    INFO(r.error_message());
    CHECK(r.error_code() == v1::COORDINATOR_NOT_AVAILABLE);
  }
  set_max("8388608");
  // Rebuilt from the log: the commit is there, the refused join is not.
  CHECK(fetched_offset(*g, "big", "t", 0) == 7);
  auto d = describe(*g, "big");
  REQUIRE(d.error_code() == v1::NONE);
  CHECK(d.members_size() == 0);
  member m{"big", "t"};
  for (int i = 0; i < 20 && m.owned.empty(); ++i) m.beat(*g);
  CHECK(m.owned == std::set<int32_t>{0});
}

}  // namespace kappa::e2e
