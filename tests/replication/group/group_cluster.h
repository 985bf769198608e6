// A test cluster of raft_groups in one process: each node has its own
// fault_env over a mem_env, a real storage::log, a strand on a shared
// boost::asio::thread_pool, and a loopback_transport that delivers straight
// into the peer group's step() (with switches to cut links). A ticker thread
// ticks every live group every tick_ms.
//
// Checks made on group threads (callbacks) only set flags; the test thread
// asserts them.
#pragma once

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proto/format/record_batch.h"
#include "proto/format/records.h"
#include "replication/group/batch_entry_codec.h"
#include "replication/group/raft_group.h"
#include "replication/transport/transport.h"
#include "storage/fault_env.h"
#include "storage/log.h"

namespace kappa::replication::test {

inline const group_name kGroup = "t-0";

// Delivery between the groups of one process; links can be cut.
class loopback_hub {
 public:
  void attach(raft::node_id id, std::shared_ptr<raft_group> g) {
    std::lock_guard lk(mu_);
    groups_[id] = g;
  }
  void detach(raft::node_id id) {
    std::lock_guard lk(mu_);
    groups_.erase(id);
  }
  // Cuts every link to and from `id` (both directions).
  void isolate(raft::node_id id) {
    std::lock_guard lk(mu_);
    isolated_.insert(id);
  }
  void heal() {
    std::lock_guard lk(mu_);
    isolated_.clear();
  }
  // Called on every delivered message (under the hub's lock): tests damage
  // messages in flight with it.
  void set_mangle(std::function<void(raft::message&)> f) {
    std::lock_guard lk(mu_);
    mangle_ = std::move(f);
  }
  void deliver(raft::message m) {
    std::shared_ptr<raft_group> g;
    {
      std::lock_guard lk(mu_);
      if (isolated_.count(m.from) || isolated_.count(m.to)) return;
      if (mangle_) mangle_(m);
      auto it = groups_.find(m.to);
      if (it == groups_.end()) return;
      g = it->second.lock();
    }
    if (g) g->step(std::move(m));
  }

 private:
  std::mutex mu_;
  std::map<raft::node_id, std::weak_ptr<raft_group>> groups_;
  std::set<raft::node_id> isolated_;
  std::function<void(raft::message&)> mangle_;
};

class loopback_transport final : public transport {
 public:
  loopback_transport(loopback_hub& hub, raft::node_id self) : hub_(hub), self_(self) {}
  void send(const group_name&, raft::message m) override {
    m.from = self_;  // as a real transport sets it from the stream
    hub_.deliver(std::move(m));
  }
  void set_peer(const peer&) override {}
  void remove_peer(raft::node_id) override {}
  bool connected(raft::node_id) const override { return true; }
  void shutdown() override {}

 private:
  loopback_hub& hub_;
  raft::node_id self_;
};

inline std::string data_batch(int records, int tag) {
  std::vector<format::record> rs(records);
  for (int i = 0; i < records; ++i) {
    rs[i].key = "key-" + std::to_string(tag);
    rs[i].value = std::string(40 + tag % 13, static_cast<char>('a' + (tag + i) % 26));
    rs[i].timestamp = 1000 + tag;
  }
  auto b = format::build_batch({}, rs);
  REQUIRE(b.ok());
  return std::string(as_chars(*b));
}

inline storage::log_config group_log_config() {
  storage::log_config c;
  c.segment_bytes = 4096;
  c.index_interval_bytes = 512;
  c.retention_ms = -1;
  c.flush = storage::flush_policy::interval;  // the group fsyncs
  return c;
}

struct test_node {
  raft::node_id id;
  std::unique_ptr<storage::env> base = storage::new_mem_env(uint64_t{16} << 20);
  std::unique_ptr<storage::fault_env> fe = std::make_unique<storage::fault_env>(*base);
  std::unique_ptr<storage::log> log;
  std::shared_ptr<raft_group> group;
  std::unique_ptr<boost::asio::strand<boost::asio::thread_pool::executor_type>> strand;
  std::unique_ptr<loopback_transport> net;
  // Observations from callbacks.
  std::atomic<int64_t> hw{0};
  std::atomic<bool> hw_went_back{false};
  std::atomic<int64_t> min_truncate{INT64_MAX};
  std::atomic<int64_t> hw_at_truncate_violation{-1};
  std::atomic<int> roles{0};
};

class group_cluster {
 public:
  // Nodes 1..n; the first `voters` (all by default) form the initial
  // membership, the others join with an empty one.
  explicit group_cluster(int n, bool durable = true, int voters = 0) : durable_(durable) {
    if (voters <= 0) voters = n;
    for (int i = 1; i <= n; ++i) {
      auto node = std::make_unique<test_node>();
      node->id = raft::node_id(i);
      if (i <= voters) conf_.voters.push_back(node->id);
      nodes_.push_back(std::move(node));
    }
    ticker_ = std::thread([this] {
      while (!stop_ticker_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard lk(mu_);
        for (auto& n : nodes_) {
          if (n->group && !paused_.count(n->id)) n->group->tick();
        }
      }
    });
  }
  ~group_cluster() {
    stop_ticker_ = true;
    ticker_.join();
    for (auto& n : nodes_) stop(*n, /*graceful=*/true);
    pool_.join();
  }

  test_node& node(int i) { return *nodes_.at(static_cast<size_t>(i - 1)); }
  int size() const { return static_cast<int>(nodes_.size()); }
  loopback_hub& hub() { return hub_; }

  void start(test_node& n, bool campaign = false) {
    if (!n.log) {
      auto l = storage::log::open(*n.fe, "/data/p", group_log_config());
      INFO(l.status().to_string());
      REQUIRE(l.ok());
      n.log = std::move(l).value();
    }
    n.strand = std::make_unique<boost::asio::strand<boost::asio::thread_pool::executor_type>>(
        boost::asio::make_strand(pool_.get_executor()));
    n.net = std::make_unique<loopback_transport>(hub_, n.id);
    group_options o;
    o.name = kGroup;
    o.self = n.id;
    o.log = n.log.get();
    o.env = n.fe.get();
    o.state_path = "/data/p.state";
    o.epoch_cache_path = "/data/p.epochs";
    if (conf_.contains(n.id)) o.initial = conf_;
    o.durable = durable_;
    o.campaign_on_start = campaign;
    o.election_tick = 10;
    o.heartbeat_tick = 2;
    o.seed = n.id.value * 7919 + 1;
    o.max_msg_bytes = 16 << 10;
    raft_group::listener li;
    test_node* np = &n;
    li.on_commit = [np](int64_t hw) {
      if (hw < np->hw.load()) np->hw_went_back = true;
      np->hw = hw;
    };
    li.on_truncate = [np](int64_t from) {
      int64_t cur = np->min_truncate.load();
      while (from < cur && !np->min_truncate.compare_exchange_weak(cur, from)) {
      }
      if (from < np->hw.load()) np->hw_at_truncate_violation = np->hw.load();
    };
    li.on_role = [np](const group_status&) { np->roles++; };
    auto* strand = n.strand.get();
    auto g = raft_group::create(
        o, [strand](std::function<void()> fn) { boost::asio::post(*strand, std::move(fn)); },
        [this](std::function<void()> fn) { boost::asio::post(pool_, std::move(fn)); }, *n.net, li);
    INFO(g.status().to_string());
    REQUIRE(g.ok());
    n.hw = g.value()->status().high_watermark;
    {
      std::lock_guard lk(mu_);
      n.group = g.value();
    }
    hub_.attach(n.id, n.group);
  }

  // graceful: shutdown() writes the state and the log is closed. Else the
  // node "loses power": the env crashes first, nothing more is written.
  void stop(test_node& n, bool graceful) {
    if (!n.group) return;
    hub_.detach(n.id);
    if (!graceful) n.fe->crash();
    std::shared_ptr<raft_group> g;
    {
      std::lock_guard lk(mu_);
      g = std::move(n.group);
    }
    g->shutdown();
    // Wait (bounded) until no strand or flusher task holds the group.
    for (int i = 0; i < 500 && g.use_count() > 1; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(g.use_count() == 1);
    g.reset();
    if (graceful) (void)n.log->close();
    n.log.reset();
  }

  // Runs fn on n's strand and waits for it (bounded).
  template <typename F>
  auto on_strand(test_node& n, F fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::promise<R> p;
    auto fut = p.get_future();
    boost::asio::post(*n.strand, [&] { p.set_value(fn()); });
    REQUIRE(fut.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return fut.get();
  }

  // The node every live member agrees leads (a leader whose term no live
  // node exceeds), or nullptr.
  test_node* leader() {
    test_node* best = nullptr;
    uint64_t max_term = 0;
    for (auto& n : nodes_) {
      if (!n->group) continue;
      auto s = n->group->status();
      max_term = std::max(max_term, s.term.value);
      if (s.role == raft::role::leader && (!best || s.term > best->group->status().term))
        best = n.get();
    }
    return best && best->group->status().term.value == max_term ? best : nullptr;
  }

  template <typename P>
  static bool wait_until(P pred, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  // Starts nodes 2 and 3, then node 1 campaigning (a three-node group), and
  // waits for a leader: the usual opening of a test. nullptr on timeout.
  test_node* start_three() {
    start(node(2));
    start(node(3));
    start(node(1), /*campaign=*/true);
    return wait_leader();
  }

  test_node* wait_leader(int timeout_ms = 10000) {
    test_node* l = nullptr;
    wait_until([&] { return (l = leader()) != nullptr; }, timeout_ms);
    return l;
  }

  // Proposes on the leader; the offsets, or an error.
  Result<storage::append_result> propose(test_node& leader, int records, int tag) {
    std::string b = data_batch(records, tag);
    return on_strand(leader, [&] { return leader.group->propose(b, records); });
  }

  // Proposes `count` batches through whichever node leads, retrying on
  // leadership changes (bounded). Returns how many were accepted.
  int propose_many(int count, int tag0) {
    int done = 0;
    for (int i = 0, guard = 0; i < count && guard < count * 20; ++guard) {
      test_node* l = wait_leader();
      if (!l) continue;
      if (propose(*l, 1 + (tag0 + i) % 3, tag0 + i).ok()) {
        ++i;
        ++done;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return done;
  }

  // Every batch of n's log, copied.
  static std::vector<std::string> batches(const storage::log& l) {
    std::vector<std::string> out;
    int64_t off = l.log_start_offset();
    for (int guard = 0; off < l.log_end_offset() && guard < 100000; ++guard) {
      auto v = l.read(off, 1 << 20);
      REQUIRE(v.ok());
      size_t pos = 0;
      while (pos + format::kBatchHeaderBytes <= v->batches.size()) {
        auto h = format::read_header(v->batches.subspan(pos));
        out.emplace_back(as_chars(v->batches.subspan(pos, h.size_bytes())));
        pos += h.size_bytes();
      }
      REQUIRE(v->next_offset > off);
      off = v->next_offset;
    }
    return out;
  }

  // Whether every live node's log equals the leader's, and every HW is the
  // log end (everything committed).
  bool converged() {
    test_node* l = leader();
    if (!l) return false;
    const int64_t end = l->log->log_end_offset();
    for (auto& n : nodes_) {
      if (!n->group) continue;
      auto s = n->group->status();
      if (n->log->log_end_offset() != end || s.high_watermark != end || n->hw.load() != end)
        return false;
    }
    return true;
  }

  void pause_ticks(raft::node_id id) {
    std::lock_guard lk(mu_);
    paused_.insert(id);
  }
  void resume_ticks() {
    std::lock_guard lk(mu_);
    paused_.clear();
  }

 private:
  bool durable_;
  raft::config conf_;
  boost::asio::thread_pool pool_{2};
  loopback_hub hub_;
  std::vector<std::unique_ptr<test_node>> nodes_;
  std::mutex mu_;
  std::set<raft::node_id> paused_;
  std::thread ticker_;
  std::atomic<bool> stop_ticker_{false};
};

}  // namespace kappa::replication::test
