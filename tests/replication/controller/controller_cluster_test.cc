// An in-process controller cluster over loopback gRPC: three voters (each
// with its own grpc::Server on 127.0.0.1 carrying the Peer transport and the
// Controller service) and a fourth broker that is not a voter. Every wait is
// bounded.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "tests/support/ports.h"
#include "replication/controller/controller.h"
#include "replication/controller/errc.h"
#include "replication/transport/grpc_transport.h"
#include "storage/env.h"

namespace kc = kappa::controller;
namespace kr = kappa::replication;
using namespace std::chrono_literals;

namespace {

// A FIFO executor on one thread: the strand (and, separately, the flusher).
class serial_executor {
 public:
  serial_executor() : t_([this] { run(); }) {}
  ~serial_executor() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    t_.join();
  }
  kc::controller::executor_fn fn() {
    return [this](std::function<void()> f) {
      {
        std::lock_guard lk(mu_);
        q_.push_back(std::move(f));
      }
      cv_.notify_one();
    };
  }

 private:
  void run() {
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [this] { return stop_ || !q_.empty(); });
      if (q_.empty()) return;  // stopping and drained
      auto f = std::move(q_.front());
      q_.pop_front();
      lk.unlock();
      f();
      lk.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::thread t_;
};


struct node {
  int32_t id = 0;
  std::string address;
  std::unique_ptr<kappa::storage::env> env = kappa::storage::new_mem_env(uint64_t{64} << 20);
  serial_executor strand, flusher;
  std::unique_ptr<kr::grpc_transport> net;
  std::unique_ptr<kc::controller> ctl;
  std::atomic<kc::controller*> ctlp{nullptr};
  std::unique_ptr<grpc::Server> server;

  ~node() { stop(); }

  void start(const std::vector<kc::voter>& voters, const std::string& addr) {
    address = addr;
    kr::grpc_transport_options to;
    to.self = kappa::raft::node_id(static_cast<uint64_t>(id));
    to.cluster_id = "test-cluster";
    net = kr::grpc_transport::create(to, [this](const kr::group_name& g, kappa::raft::message m) {
      if (g != kr::kControllerGroup) return;
      if (auto* c = ctlp.load()) c->step(std::move(m));
    });
    kc::controller_options o;
    o.self = id;
    o.cluster_id = "test-cluster";
    o.client_address = "127.0.0.1:1";  // not served here
    o.internal_address = address;
    o.voters = voters;
    o.data_dir = "/data" + std::to_string(id);
    o.env = env.get();
    o.durable = true;
    REQUIRE(env->create_dirs(o.data_dir).ok());
    auto c = kc::controller::start(o, strand.fn(), flusher.fn(), *net);
    REQUIRE(c.ok());
    ctl = std::move(c).value();
    grpc::ServerBuilder b;
    b.AddListeningPort(address, grpc::InsecureServerCredentials());
    kr::grpc_transport::configure_server(b);
    b.RegisterService(net->service());
    b.RegisterService(ctl->service());
    server = b.BuildAndStart();
    REQUIRE(server);
    ctlp = ctl.get();
  }

  void stop() {
    if (!ctl) return;
    ctlp = nullptr;
    ctl->shutdown();
    server->Shutdown(std::chrono::system_clock::now() + 1s);
    net->shutdown();
    ctl.reset();
    server.reset();
    net.reset();
  }
};

// Ticks every running controller every 50 ms, as the broker does.
class cluster {
 public:
  explicit cluster(int voters) {
    for (int i = 1; i <= voters; ++i) {
      voters_.push_back({i, "127.0.0.1:" + std::to_string(kappa::test::unused_port())});
    }
    for (const auto& v : voters_) add(v.id, v.internal_address);
    ticker_ = std::thread([this] {
      while (!stop_) {
        if (!paused_) {
          std::lock_guard lk(mu_);
          for (auto& [_, n] : nodes_) n->ctl->tick();
        }
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~cluster() {
    stop_ = true;
    ticker_.join();
    std::lock_guard lk(mu_);
    nodes_.clear();
  }

  void add(int32_t id, const std::string& addr) {
    auto n = std::make_unique<node>();
    n->id = id;
    n->start(voters_, addr);
    std::lock_guard lk(mu_);
    nodes_[id] = std::move(n);
  }
  void add_non_voter(int32_t id) { add(id, "127.0.0.1:" + std::to_string(kappa::test::unused_port())); }

  // Stops `id` and starts it again over the same (in-memory) disk.
  void restart(int32_t id) {
    kill(id);
    restart_killed(id);
  }

  void set_reporter(int32_t id, std::function<std::vector<kc::leader_entry>()> f) {
    at(id).set_leader_reporter(std::move(f));
  }

  void kill(int32_t id) {
    std::unique_ptr<node> n;
    {
      std::lock_guard lk(mu_);
      n = std::move(nodes_.at(id));
      nodes_.erase(id);
    }
    n->stop();
    killed_[id] = std::move(n);  // keeps its disk for restart_killed()
  }

  void restart_killed(int32_t id) {
    auto old = std::move(killed_.at(id));
    killed_.erase(id);
    auto fresh = std::make_unique<node>();
    fresh->id = id;
    fresh->env = std::move(old->env);
    const std::string addr = old->address;
    old.reset();
    fresh->start(voters_, addr);
    std::lock_guard lk(mu_);
    nodes_[id] = std::move(fresh);
  }

  kc::controller& at(int32_t id) {
    std::lock_guard lk(mu_);
    return *nodes_.at(id)->ctl;
  }
  std::vector<int32_t> ids() {
    std::lock_guard lk(mu_);
    std::vector<int32_t> out;
    for (auto& [id, _] : nodes_) out.push_back(id);
    return out;
  }

  // The leader every running voter agrees on, or -1.
  int32_t agreed_leader() {
    int32_t leader = -1;
    for (int32_t id : ids()) {
      if (id > static_cast<int32_t>(voters_.size())) continue;
      const int32_t l = at(id).view().controller_leader;
      if (l <= 0 || (leader != -1 && l != leader)) return -1;
      leader = l;
    }
    return leader;
  }

  bool images_equal() {
    std::shared_ptr<const kc::metadata_image> first;
    for (int32_t id : ids()) {
      auto img = at(id).view().image;
      if (!first)
        first = img;
      else if (!(*img == *first))
        return false;
    }
    return true;
  }

 private:
  std::vector<kc::voter> voters_;
  std::mutex mu_;
  std::map<int32_t, std::unique_ptr<node>> nodes_;
  std::map<int32_t, std::unique_ptr<node>> killed_;
  std::atomic<bool> stop_{false};
  std::thread ticker_;

 public:
  std::atomic<bool> paused_{false};  // no ticks: no timers fire anywhere
  node& raw(int32_t id) {
    std::lock_guard lk(mu_);
    return *nodes_.at(id);
  }
};

template <typename F>
bool eventually(F&& f, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

kappa::Status submit(kc::controller& c, kc::command cmd, int64_t timeout_ms = 10000) {
  auto p = std::make_shared<std::promise<kappa::Status>>();
  auto f = p->get_future();
  c.submit(std::move(cmd), timeout_ms, [p](kappa::Status st) { p->set_value(st); });
  // The controller answers by the deadline; the slack only catches a bug.
  if (f.wait_for(std::chrono::milliseconds(timeout_ms) + 5s) != std::future_status::ready) {
    return kappa::Status(std::make_error_code(std::errc::timed_out), "submit never answered");
  }
  return f.get();
}

kappa::Result<int64_t> allocate(kc::controller& c, int64_t count) {
  auto p = std::make_shared<std::promise<kappa::Result<int64_t>>>();
  auto f = p->get_future();
  c.allocate_producer_ids(count, 10000, [p](kappa::Result<int64_t> r) { p->set_value(r); });
  if (f.wait_for(15s) != std::future_status::ready) {
    return kappa::Status(std::make_error_code(std::errc::timed_out), "never answered");
  }
  return f.get();
}

}  // namespace

TEST_CASE("ControllerClusterElectsForwardsConvergesAndSurvivesItsLeader", "[controller][cluster]") {
  cluster cl(3);
  REQUIRE(eventually([&] { return cl.agreed_leader() > 0; }, 10000ms));
  const int32_t leader = cl.agreed_leader();
  const int32_t follower = leader == 1 ? 2 : 1;

  // Heartbeats register every broker through the log.
  REQUIRE(eventually([&] { return cl.at(leader).view().image->brokers.size() == 3; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(follower).view().live.size() == 3; }, 5000ms));
  CHECK(cl.at(follower).view().controller_leader == leader);

  // A follower forwards; when submit returns, its own image has applied it.
  REQUIRE(submit(cl.at(follower), kc::create_topic_command{"t", 6, 3, {}}).to_string() == "ok");
  {
    auto img = cl.at(follower).view().image;
    REQUIRE(img->topics.count("t") == 1);
    std::map<int32_t, int> leaders;
    for (const auto& p : img->topics.at("t").partitions) leaders[p.replicas[0]]++;
    for (int32_t b : {1, 2, 3}) CHECK(leaders[b] == 2);
  }
  auto dup = submit(cl.at(follower), kc::create_topic_command{"t", 1, 1, {}});
  CHECK(dup.code() == kc::make_error_code(kc::errc::topic_already_exists));
  auto rf = submit(cl.at(leader), kc::create_topic_command{"big", 1, 4, {}});
  CHECK(rf.code() == kc::make_error_code(kc::errc::invalid_replication_factor));

  auto a = allocate(cl.at(follower), 1000);
  REQUIRE(a.ok());
  auto b = allocate(cl.at(leader), 1000);
  REQUIRE(b.ok());
  CHECK(*a != *b);
  CHECK((*a - *b == 1000 || *b - *a == 1000));

  REQUIRE(eventually([&] { return cl.images_equal(); }, 5000ms));

  // A broker that is not a voter follows the log through FetchMetadata and
  // registers itself through its heartbeats.
  cl.add_non_voter(4);
  REQUIRE(eventually([&] { return cl.at(4).view().image->brokers.count(4) == 1; }, 10000ms));
  REQUIRE(eventually([&] { return cl.images_equal(); }, 5000ms));
  CHECK(cl.at(4).view().image->topics.count("t") == 1);
  REQUIRE(eventually([&] { return cl.at(4).view().controller_leader == leader; }, 5000ms));
  REQUIRE(submit(cl.at(4), kc::alter_configs_command{"t", {{"retention.ms", "1000"}}}).ok());
  CHECK(cl.at(4).view().image->topics.at("t").configs.at("retention.ms") == "1000");

  // The leader goes away: the two others elect a new one and commands work
  // again within a bounded time, from a voter and from the non-voter.
  cl.kill(leader);
  REQUIRE(
      eventually([&] { return cl.agreed_leader() > 0 && cl.agreed_leader() != leader; }, 10000ms));
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(submit(cl.at(4), kc::create_topic_command{"u", 2, 2, {}}, 15000).to_string() == "ok");
  CHECK(std::chrono::steady_clock::now() - t0 < 15s);
  int32_t survivor = -1;
  for (int32_t id : cl.ids()) {
    if (id <= 3) survivor = id;
  }
  REQUIRE(submit(cl.at(survivor), kc::delete_topic_command{"t"}).to_string() == "ok");
  REQUIRE(eventually([&] { return cl.images_equal(); }, 5000ms));
  auto img = cl.at(4).view().image;
  CHECK(img->topics.count("t") == 0);
  CHECK(img->topics.count("u") == 1);
}

TEST_CASE("ControllerVotersRebuildTheirImageFromTheLogAfterARestart", "[controller][cluster]") {
  cluster cl(3);
  REQUIRE(eventually([&] { return cl.agreed_leader() > 0; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(1).view().image->brokers.size() == 3; }, 10000ms));
  for (int i = 0; i < 5; ++i) {
    REQUIRE(submit(cl.at(1 + i % 3), kc::create_topic_command{"t" + std::to_string(i), 3, 2, {}})
                .to_string() == "ok");
  }
  REQUIRE(eventually([&] { return cl.images_equal(); }, 5000ms));
  const auto before = *cl.at(1).view().image;

  // One voter at a time, then all of them: each comes back with the same
  // image, rebuilt from its own log.
  const int32_t follower = cl.agreed_leader() == 3 ? 2 : 3;
  cl.restart(follower);
  REQUIRE(eventually([&] { return *cl.at(follower).view().image == before; }, 10000ms));
  for (int32_t id : {1, 2, 3}) cl.kill(id);
  for (int32_t id : {1, 2, 3}) cl.restart_killed(id);
  REQUIRE(eventually([&] { return cl.agreed_leader() > 0; }, 10000ms));
  REQUIRE(
      eventually([&] { return *cl.at(1).view().image == before && cl.images_equal(); }, 10000ms));
  // Topic ids keep growing across restarts: the counter is in the log.
  REQUIRE(submit(cl.at(2), kc::create_topic_command{"after", 1, 1, {}}).to_string() == "ok");
  CHECK(cl.at(2).view().image->topics.at("after").id == before.next_topic_id);
}

TEST_CASE("HeartbeatsCarryLivenessAndPartitionLeaders", "[controller][cluster]") {
  cluster cl(3);
  REQUIRE(eventually([&] { return cl.agreed_leader() > 0; }, 10000ms));
  const int32_t leader = cl.agreed_leader();
  const int32_t a = leader == 1 ? 2 : 1;
  const int32_t b = 6 - leader - a;
  REQUIRE(eventually([&] { return cl.at(a).view().live.size() == 3; }, 10000ms));
  REQUIRE(submit(cl.at(a), kc::create_topic_command{"t", 2, 2, {}}).to_string() == "ok");

  // b says it leads t-0 at epoch 5, later at epoch 4 (a stale report):
  // the higher epoch stays.
  std::atomic<int64_t> epoch{5};
  cl.set_reporter(b, [&epoch, b] {
    return std::vector<kc::leader_entry>{{"t", 0, b, epoch.load(), {b}}, {"t", 1, b, 3, {b}}};
  });
  auto told = [&](int32_t on, int64_t e) {
    for (const auto& l : cl.at(on).view().leaders) {
      if (l.topic == "t" && l.partition == 0 && l.leader == b && l.epoch == e) return true;
    }
    return false;
  };
  REQUIRE(eventually([&] { return told(a, 5); }, 5000ms));
  epoch = 4;
  std::this_thread::sleep_for(1500ms);
  CHECK(told(a, 5));
  // a reports a newer leadership of t-0: it replaces b's.
  cl.set_reporter(a, [a] { return std::vector<kc::leader_entry>{{"t", 0, a, 6, {a}}}; });
  REQUIRE(eventually(
      [&] {
        for (const auto& l : cl.at(b).view().leaders) {
          if (l.topic == "t" && l.partition == 0) return l.leader == a && l.epoch == 6;
        }
        return false;
      },
      5000ms));

  // A broker that stops heartbeating leaves the live set after the window.
  REQUIRE(cl.at(a).view().live == std::vector<int32_t>{1, 2, 3});
  cl.kill(b);
  REQUIRE(eventually(
      [&] {
        auto live = cl.at(a).view().live;
        return std::find(live.begin(), live.end(), b) == live.end();
      },
      8000ms));
  // b's last leadership (t-1) is reported offline, not at a dead address.
  REQUIRE(eventually(
      [&] {
        for (const auto& l : cl.at(a).view().leaders) {
          if (l.topic == "t" && l.partition == 1) return l.leader == -1 && l.epoch == 3;
        }
        return false;
      },
      3000ms));
  // Placement then uses only the live brokers.
  auto st = submit(cl.at(a), kc::create_topic_command{"three", 1, 3, {}});
  CHECK(st.code() == kc::make_error_code(kc::errc::invalid_replication_factor));
  CHECK_THAT(st.message(), Catch::Contains("2 live"));
}

TEST_CASE("OnImageSeesEveryCommittedChange", "[controller][cluster]") {
  cluster cl(1);
  REQUIRE(eventually([&] { return cl.agreed_leader() == 1; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(1).view().image->brokers.size() == 1; }, 10000ms));
  std::mutex mu;
  std::vector<int64_t> offsets;
  cl.at(1).on_image([&](std::shared_ptr<const kc::metadata_image> img) {
    std::lock_guard lk(mu);
    offsets.push_back(img->offset);
  });
  REQUIRE(submit(cl.at(1), kc::create_topic_command{"x", 1, 1, {}}).to_string() == "ok");
  REQUIRE(submit(cl.at(1), kc::delete_topic_command{"x"}).to_string() == "ok");
  std::lock_guard lk(mu);
  REQUIRE(offsets.size() >= 2);
  CHECK(std::is_sorted(offsets.begin(), offsets.end()));
  CHECK(offsets.back() == cl.at(1).view().image->offset);
}

TEST_CASE("ServerShutdownFirstDoesNotHangOnHeldCalls", "[controller][cluster]") {
  // The broker stops its internal server before the controller, and may
  // stop ticking before that: a long poll held by a voter must not keep
  // the server's shutdown waiting.
  cluster cl(1);
  REQUIRE(eventually([&] { return cl.agreed_leader() == 1; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(1).view().image->brokers.size() == 1; }, 10000ms));
  cl.add_non_voter(2);
  REQUIRE(eventually(
      [&] { return cl.images_equal() && cl.at(1).view().image->brokers.size() == 2; }, 10000ms));
  std::this_thread::sleep_for(200ms);  // the non-voter is in a long poll now
  cl.paused_ = true;
  auto& n = cl.raw(1);
  const auto t0 = std::chrono::steady_clock::now();
  n.server->Shutdown(std::chrono::system_clock::now() + 200ms);
  n.server->Wait();
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  cl.paused_ = false;
}

TEST_CASE("ConcurrentSubmitsFromEveryBrokerAllCommitOnce", "[controller][cluster]") {
  cluster cl(3);
  REQUIRE(eventually([&] { return cl.agreed_leader() > 0; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(1).view().live.size() == 3; }, 10000ms));
  REQUIRE(eventually([&] { return cl.at(1).view().image->brokers.size() == 3; }, 10000ms));
  // 30 creates and 15 producer id blocks at once, from all three brokers:
  // the leader plans each against the image plus what it proposed before.
  constexpr int kTopics = 30;
  std::vector<std::future<kappa::Status>> creates;
  std::vector<std::future<kappa::Result<int64_t>>> pids;
  for (int i = 0; i < kTopics; ++i) {
    auto p = std::make_shared<std::promise<kappa::Status>>();
    creates.push_back(p->get_future());
    cl.at(1 + i % 3).submit(kc::create_topic_command{"t" + std::to_string(i), 2, 2, {}}, 15000,
                            [p](kappa::Status st) { p->set_value(st); });
    if (i % 2 == 0) {
      auto q = std::make_shared<std::promise<kappa::Result<int64_t>>>();
      pids.push_back(q->get_future());
      cl.at(1 + i % 3).allocate_producer_ids(100, 15000,
                                             [q](kappa::Result<int64_t> r) { q->set_value(r); });
    }
  }
  for (auto& f : creates) {
    REQUIRE(f.wait_for(20s) == std::future_status::ready);
    CHECK(f.get().to_string() == "ok");
  }
  std::set<int64_t> starts;
  for (auto& f : pids) {
    REQUIRE(f.wait_for(20s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok());
    CHECK(*r % 100 == 0);
    starts.insert(*r);
  }
  CHECK(starts.size() == pids.size());  // no block handed out twice
  REQUIRE(eventually([&] { return cl.images_equal(); }, 5000ms));
  auto img = cl.at(2).view().image;
  REQUIRE(img->topics.size() == kTopics);
  std::set<uint64_t> ids;
  std::map<int32_t, int> leaders;
  for (const auto& [_, t] : img->topics) {
    ids.insert(t.id);
    for (const auto& p : t.partitions) leaders[p.replicas[0]]++;
  }
  CHECK(ids.size() == kTopics);
  CHECK(img->next_producer_id == static_cast<int64_t>(100 * pids.size()));
  // 60 partitions over 3 brokers: the rotating start keeps leaders even.
  for (int32_t b : {1, 2, 3}) CHECK(leaders[b] == 20);
}

TEST_CASE("SubmitWithoutAReachableControllerTimesOutByItsDeadline", "[controller][cluster]") {
  cluster cl(1);
  REQUIRE(eventually([&] { return cl.agreed_leader() == 1; }, 10000ms));
  cl.add_non_voter(2);
  REQUIRE(eventually([&] { return cl.at(2).view().controller_leader == 1; }, 10000ms));
  cl.kill(1);
  const auto t0 = std::chrono::steady_clock::now();
  auto st = submit(cl.at(2), kc::create_topic_command{"t", 1, 1, {}}, 1000);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(st.code() == kc::make_error_code(kc::errc::request_timed_out));
  CHECK(took >= 900ms);
  CHECK(took < 3s);
}
