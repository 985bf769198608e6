// The cluster fault suite: three real kappad processes, a Jepsen-style queue
// workload (workload.h), one fault schedule per test case, then the checks of
// workload.h and replicas.h and "writes accepted within 10 s of healing".
//
// Each case runs KAPPA_CHAOS_ROUNDS rounds (default 1; `make chaos` runs
// more), round r with seed KAPPA_CHAOS_SEED + r (default: from the clock).
// The seed picks victims and timings; a failure prints it, keeps the
// cluster's directory (kappad logs and data) and shows the logs' tails.
// Replay: KAPPA_CHAOS_SEED=<seed> cluster_tests "<case name>".
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "kappa/admin.h"
#include "tests/cluster/cluster.h"
#include "tests/cluster/replicas.h"
#include "tests/cluster/workload.h"

namespace kappa_cluster {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr const char* kTopic = "jepsen";
constexpr int kPartitions = 3;
constexpr int64_t kHealedWriteDeadlineMs = 10000;

struct run_context {
  cluster& c;
  workload& w;
  std::mt19937_64& rng;
  std::vector<std::string>& notes;  // what the schedule did, for the report
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  void note(std::string s) { notes.push_back(std::move(s)); }
};

using schedule = std::function<void(run_context&)>;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

kappa::client_config admin_config(const cluster& c) {
  kappa::client_config cfg;
  cfg.bootstrap = c.bootstrap();
  cfg.request_timeout_ms = 3000;
  cfg.retry_backoff_min_ms = 50;
  cfg.retry_backoff_max_ms = 500;
  cfg.metadata_max_age_ms = 1000;
  return cfg;
}

// Creates the topic (retrying while the controller is elected) and waits
// until every partition has a leader. Returns "" or what failed.
std::string create_topic(const cluster& c, int64_t timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  auto adm = kappa::admin::create(admin_config(c));
  if (!adm.ok()) return adm.status().message();
  std::string last;
  bool created = false;
  while (!created && clock_type::now() < deadline) {
    auto r = adm.value()->create_topics({{kTopic, kPartitions, 3, {}}});
    if (r.ok() && !r.value().empty() &&
        (r.value()[0].status.ok() || r.value()[0].status.code() == kappa::client_errc::topic_already_exists)) {
      created = true;
      break;
    }
    last = r.ok() ? (r.value().empty() ? "no result" : r.value()[0].status.message()) : r.status().message();
    std::this_thread::sleep_for(200ms);
  }
  if (!created) return "create_topics kept failing: " + last;
  while (clock_type::now() < deadline) {
    auto d = adm.value()->describe_topics({kTopic});
    if (d.ok() && !d.value().empty() && d.value()[0].status.ok() &&
        int(d.value()[0].partitions.size()) == kPartitions) {
      bool all = true;
      for (const auto& p : d.value()[0].partitions) all = all && p.leader_id > 0;
      if (all) return "";
      last = "a partition has no leader yet";
    } else {
      last = d.ok() ? "topic not described yet" : d.status().message();
    }
    std::this_thread::sleep_for(200ms);
  }
  return "partitions without a leader: " + last;
}

// The current leader and replicas of partition p (leader -1 if unknown).
std::pair<int, std::vector<int32_t>> partition_leader(const cluster& c, int p, int64_t timeout_ms = 5000) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  auto adm = kappa::admin::create(admin_config(c));
  while (adm.ok() && clock_type::now() < deadline) {
    auto d = adm.value()->describe_topics({kTopic});
    if (d.ok() && !d.value().empty() && int(d.value()[0].partitions.size()) > p) {
      const auto& pd = d.value()[0].partitions[size_t(p)];
      if (pd.leader_id > 0) return {pd.leader_id, pd.replicas};
    }
    std::this_thread::sleep_for(100ms);
  }
  return {-1, {}};
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Every pair of brokers has a connection through the proxy (so link faults
// reach them). Waits up to timeout_ms.
bool links_proxied(cluster& c, int64_t timeout_ms) {
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    bool all = true;
    for (int a = 1; a <= c.size(); ++a) {
      for (int b = a + 1; b <= c.size(); ++b) {
        all = all && (c.net().open_connections(a, b) + c.net().open_connections(b, a)) > 0;
      }
    }
    if (all) return true;
    if (clock_type::now() > deadline) return false;
    sleep_ms(100);
  }
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

void run_rounds(const std::string& name, cluster_options options, bool needs_proxy, const schedule& fault) {
  if (!std::filesystem::exists(kappad_binary())) {
    WARN("skipped: no kappad at " << kappad_binary() << " (build target kappad, or set KAPPAD_BINARY)");
    return;
  }
  const int rounds = std::max(1, env_int("KAPPA_CHAOS_ROUNDS", 1));
  const uint64_t seed0 = std::getenv("KAPPA_CHAOS_SEED")
                             ? std::strtoull(std::getenv("KAPPA_CHAOS_SEED"), nullptr, 10)
                             : uint64_t(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  for (int round = 0; round < rounds; ++round) {
    const uint64_t seed = seed0 + uint64_t(round);
    std::mt19937_64 rng(seed);
    std::vector<std::string> notes;
    std::vector<std::string> failures;
    cluster c(options);
    INFO("case '" << name << "' round " << round << " seed " << seed << " (replay: KAPPA_CHAOS_SEED=" << seed
                  << " cluster_tests \"" << name << "\"); cluster dir " << c.dir());
    auto fail_with_logs = [&](const std::string& why) {
      c.keep();
      FAIL(why << "\n" << "schedule:\n" << join_lines(notes) << c.describe_logs(40));
    };

    std::vector<int> all, initial;
    for (int id = 1; id <= c.size(); ++id) all.push_back(id);
    const int started = options.initially_started > 0 ? options.initially_started : c.size();
    for (int id = 1; id <= started; ++id) {
      c.start(id);
      initial.push_back(id);
    }
    if (!c.wait_listening(initial, 30000)) fail_with_logs("brokers did not start listening within 30 s");
    if (std::string e = create_topic(c, 30000); !e.empty()) fail_with_logs("topic setup: " + e);

    workload_options wo;
    wo.bootstrap = c.bootstrap();
    wo.topic = kTopic;
    wo.partitions = kPartitions;
    // Heap-allocated: a workload whose client hangs in close() is leaked.
    auto owned = std::make_unique<workload>(wo);
    workload& w = *owned;
    struct leak_if_hung {
      std::unique_ptr<workload>& p;
      ~leak_if_hung() {
        if (p && p->hung()) (void)p.release();
      }
    } guard{owned};
    w.start();
    sleep_ms(2000);
    if (needs_proxy && !links_proxied(c, 5000)) {
      w.stop(0);
      fail_with_logs(std::string("broker-to-broker traffic does not cross the link proxy, so link faults "
                                 "cannot be injected (kappad ") +
                     (c.advertises_proxy() ? "has" : "lacks") +
                     " --advertised-internal-listen; brokers learn peers' real internal addresses)");
    }

    run_context ctx{c, w, rng, notes};
    fault(ctx);
    ctx.note("healed");

    // The cluster must take writes again within 10 s of healing.
    const int64_t probe_ms = w.probe_writes(kHealedWriteDeadlineMs);
    if (probe_ms < 0) {
      failures.push_back("writes not accepted on every partition within " +
                         std::to_string(kHealedWriteDeadlineMs) + " ms of healing");
    } else {
      ctx.note("writes accepted " + std::to_string(probe_ms) + " ms after healing");
    }
    sleep_ms(2000);
    w.stop(15000);
    if (std::string e = w.drain(30000); !e.empty()) failures.push_back("final drain: " + e);
    for (auto& v : w.check()) failures.push_back(v);

    for (int id : all) {
      if (!c.running(id)) failures.push_back("broker " + std::to_string(id) + " exited on its own");
    }
    sleep_ms(1000);  // followers fetch the last commits
    for (int id : all) {
      if (!c.stop(id)) ctx.note("broker " + std::to_string(id) + " did not shut down cleanly within 20 s");
    }
    for (auto& v : compare_replicas(c, kTopic, w.hist().high_watermarks)) failures.push_back(v);

    const std::string summary = w.summary();
    INFO("workload: " << summary);
    if (!failures.empty()) {
      fail_with_logs(std::to_string(failures.size()) + " violation(s):\n" + join_lines(failures));
    }
    SUCCEED("round " << round << " seed " << seed << ": " << summary);
  }
}

int victim_leader(run_context& ctx) {
  auto [leader, replicas] = partition_leader(ctx.c, 0);
  if (leader < 0) leader = ctx.pick(1, ctx.c.size());
  return leader;
}

void restart_and_wait(run_context& ctx, int id) {
  ctx.c.start(id);
  ctx.c.wait_listening({id}, 20000);
  ctx.note("restarted broker " + std::to_string(id));
}

}  // namespace

TEST_CASE("cluster: no faults (baseline)", "[cluster]") {
  run_rounds("cluster: no faults (baseline)", {}, false, [](run_context& ctx) { sleep_ms(ctx.pick(2000, 4000)); });
}

TEST_CASE("cluster: SIGKILL the leader", "[cluster]") {
  run_rounds("cluster: SIGKILL the leader", {}, false, [](run_context& ctx) {
    const int leader = victim_leader(ctx);
    ctx.c.kill(leader);
    ctx.note("SIGKILL broker " + std::to_string(leader) + " (leader of partition 0)");
    sleep_ms(ctx.pick(2000, 4000));
    restart_and_wait(ctx, leader);
  });
}

TEST_CASE("cluster: SIGKILL a random node", "[cluster]") {
  run_rounds("cluster: SIGKILL a random node", {}, false, [](run_context& ctx) {
    const int victim = ctx.pick(1, ctx.c.size());
    ctx.c.kill(victim);
    ctx.note("SIGKILL broker " + std::to_string(victim));
    sleep_ms(ctx.pick(1000, 4000));
    restart_and_wait(ctx, victim);
  });
}

TEST_CASE("cluster: SIGKILL every node, then restart", "[cluster]") {
  run_rounds("cluster: SIGKILL every node, then restart", {}, false, [](run_context& ctx) {
    ctx.c.kill_all();
    ctx.note("SIGKILL every broker");
    sleep_ms(ctx.pick(500, 2000));
    ctx.c.start_all();
    ctx.c.wait_listening({1, 2, 3}, 20000);
    ctx.note("restarted every broker");
  });
}

TEST_CASE("cluster: SIGSTOP the leader past the election timeout", "[cluster]") {
  run_rounds("cluster: SIGSTOP the leader past the election timeout", {}, false, [](run_context& ctx) {
    const int leader = victim_leader(ctx);
    ctx.c.pause(leader);
    const int ms = ctx.pick(2000, 4000);  // elections start after 0.5-1 s
    ctx.note("SIGSTOP broker " + std::to_string(leader) + " for " + std::to_string(ms) + " ms");
    sleep_ms(ms);
    ctx.c.resume(leader);
  });
}

TEST_CASE("cluster: isolate the leader", "[cluster]") {
  run_rounds("cluster: isolate the leader", {}, true, [](run_context& ctx) {
    const int leader = victim_leader(ctx);
    ctx.c.net().isolate(leader, link_state::stall);
    const int ms = ctx.pick(3000, 5000);
    ctx.note("isolate broker " + std::to_string(leader) + " (stall) for " + std::to_string(ms) + " ms");
    sleep_ms(ms);
    ctx.c.net().heal_all();
  });
}

TEST_CASE("cluster: majority/minority split", "[cluster]") {
  run_rounds("cluster: majority/minority split", {}, true, [](run_context& ctx) {
    // The minority side moves once, so both the old and a new leader's side
    // lose their majority in turn.
    for (int phase = 0; phase < 2; ++phase) {
      const int minority = ctx.pick(1, ctx.c.size());
      const link_state how = ctx.pick(0, 1) ? link_state::stall : link_state::reset;
      ctx.c.net().heal_all();
      ctx.c.net().isolate(minority, how);
      const int ms = ctx.pick(2000, 3500);
      ctx.note("split {" + std::to_string(minority) + "} | rest (" + to_string(how) + ") for " +
               std::to_string(ms) + " ms");
      sleep_ms(ms);
    }
    ctx.c.net().heal_all();
  });
}

TEST_CASE("cluster: flapping partitions", "[cluster]") {
  run_rounds("cluster: flapping partitions", {}, true, [](run_context& ctx) {
    const auto end = clock_type::now() + 8s;
    int flips = 0;
    while (clock_type::now() < end) {
      const int a = ctx.pick(1, ctx.c.size());
      int b = ctx.pick(1, ctx.c.size() - 1);
      if (b >= a) ++b;
      const link_state s = link_state(ctx.pick(0, 2));
      ctx.c.net().set_link(a, b, s);
      ++flips;
      sleep_ms(ctx.pick(200, 700));
    }
    ctx.note(std::to_string(flips) + " link flips over 8 s");
    ctx.c.net().heal_all();
  });
}

TEST_CASE("cluster: bit flip in a replica's segment while it is down", "[cluster]") {
  run_rounds("cluster: bit flip in a replica's segment while it is down", {}, false, [](run_context& ctx) {
    auto [leader, replicas] = partition_leader(ctx.c, 0);
    int victim = -1;
    for (int r : replicas) {
      if (r != leader) victim = r;
    }
    if (victim < 0) victim = ctx.pick(1, ctx.c.size());
    ctx.c.kill(victim);
    // The largest segment of partition 0 on the victim; flip a bit in a
    // record (past the first batch header), inside data that was committed.
    const std::string dir = ctx.c.data_dir(victim) + "/" + kTopic + "-0";
    std::string seg;
    uintmax_t size = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".log" && e.file_size() > size) {
        seg = e.path();
        size = e.file_size();
      }
    }
    if (seg.empty() || size < 200) {
      ctx.note("broker " + std::to_string(victim) + ": no segment to damage in " + dir);
    } else {
      // A byte inside the CRC-covered part (attributes..end) of a batch in
      // the first half of the segment. Kafka's CRC does not cover a batch's
      // baseOffset and partitionLeaderEpoch: damage there is not detected
      // (a known gap, see README), so the flip avoids them.
      std::vector<std::pair<uint64_t, uint64_t>> covered;  // [begin, end) per batch
      {
        std::ifstream in(seg, std::ios::binary);
        uint64_t pos = 0;
        while (pos + 61 <= size / 2 && covered.size() < 100000) {
          unsigned char len_be[4];
          in.seekg(std::streamoff(pos + 8));
          if (!in.read(reinterpret_cast<char*>(len_be), 4)) break;
          const uint64_t len = (uint64_t(len_be[0]) << 24) | (uint64_t(len_be[1]) << 16) |
                               (uint64_t(len_be[2]) << 8) | uint64_t(len_be[3]);
          if (len < 49 || pos + 12 + len > size) break;
          covered.emplace_back(pos + 21, pos + 12 + len);
          pos += 12 + len;
        }
      }
      REQUIRE_FALSE(covered.empty());
      const auto [lo, hi] = covered[size_t(ctx.pick(0, int(covered.size()) - 1))];
      const uint64_t off = lo + uint64_t(ctx.pick(0, int(hi - lo) - 1));
      const int bit = ctx.pick(0, 7);
      std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(std::streamoff(off));
      char byte = 0;
      f.read(&byte, 1);
      byte = char(byte ^ (1 << bit));
      f.seekp(std::streamoff(off));
      f.write(&byte, 1);
      ctx.note("SIGKILL broker " + std::to_string(victim) + ", flipped bit " + std::to_string(bit) +
               " of byte " + std::to_string(off) + " of " + seg + " (" + std::to_string(size) + " bytes)");
    }
    sleep_ms(1000);
    restart_and_wait(ctx, victim);
  });
}

TEST_CASE("cluster: power loss of every node", "[cluster]") {
  cluster_options o;
  o.power_loss = true;
  run_rounds("cluster: power loss of every node", o, false, [](run_context& ctx) {
    ctx.c.kill_all();
    ctx.note("power loss (SIGKILL under --test-power-loss) of every broker");
    sleep_ms(ctx.pick(500, 1500));
    ctx.c.start_all();
    ctx.c.wait_listening({1, 2, 3}, 20000);
    ctx.note("restarted every broker");
  });
}


namespace {

// Waits until partition p's replica set equals `target` (as a set) and no
// reassignment is running. Returns "" or what it saw last.
std::string wait_replica_set(kappa::admin& adm, int p, std::vector<int32_t> target, int64_t timeout_ms) {
  std::sort(target.begin(), target.end());
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  std::string last = "nothing described";
  while (clock_type::now() < deadline) {
    auto d = adm.describe_topics({kTopic});
    if (d.ok() && !d.value().empty() && int(d.value()[0].partitions.size()) > p) {
      const auto& pd = d.value()[0].partitions[size_t(p)];
      std::vector<int32_t> have = pd.replicas;
      std::sort(have.begin(), have.end());
      if (have == target && pd.target_replicas.empty() && pd.leader_id > 0) return "";
      last = "replicas " + std::to_string(have.size()) + ", target " +
             std::to_string(pd.target_replicas.size()) + ", leader " + std::to_string(pd.leader_id);
    }
    sleep_ms(200);
  }
  return last;
}

}  // namespace

// Online replica-set changes under the workload: shrink partition 0 to two
// replicas, grow it back with the dropped broker as the preferred leader, then
// move leadership back to preferred replicas. The workload's checks (every
// acknowledged record once, replicas byte-identical) cover the moves.
TEST_CASE("cluster: reassign a partition and rebalance leaders under load", "[cluster]") {
  run_rounds("cluster: reassign a partition and rebalance leaders under load", {}, false,
             [](run_context& ctx) {
    auto adm = kappa::admin::create(admin_config(ctx.c));
    REQUIRE(adm.ok());
    auto [leader, replicas] = partition_leader(ctx.c, 0);
    REQUIRE(replicas.size() == 3);
    const std::vector<int32_t> smaller(replicas.begin() + 1, replicas.end());
    REQUIRE(adm.value()->reassign_partition({kTopic, 0}, smaller).ok());
    const std::string shrunk = wait_replica_set(*adm.value(), 0, smaller, 30000);
    INFO("shrinking partition 0: " << shrunk);
    REQUIRE(shrunk.empty());
    const std::vector<int32_t> full = {replicas[0], smaller[0], smaller[1]};
    REQUIRE(adm.value()->reassign_partition({kTopic, 0}, full).ok());
    const std::string grown = wait_replica_set(*adm.value(), 0, full, 30000);
    INFO("growing partition 0 back: " << grown);
    REQUIRE(grown.empty());
    // Preferred leaders: replicas[0] of every partition, once in sync.
    int preferred_leading = 0;
    for (int attempt = 0; attempt < 20 && preferred_leading < kPartitions; ++attempt) {
      auto moves = adm.value()->rebalance_leaders(10000);
      REQUIRE(moves.ok());
      sleep_ms(500);
      auto d = adm.value()->describe_topics({kTopic});
      preferred_leading = 0;
      if (d.ok() && !d.value().empty()) {
        for (const auto& pd : d.value()[0].partitions) {
          if (!pd.replicas.empty() && pd.leader_id == pd.replicas[0]) ++preferred_leading;
        }
      }
    }
    CHECK(preferred_leading == kPartitions);
    ctx.note("partition 0: " + std::to_string(replicas.size()) + " -> 2 -> 3 replicas (broker " +
             std::to_string(replicas[0]) + " dropped and re-added); " +
             std::to_string(preferred_leading) + " of " + std::to_string(kPartitions) +
             " partitions led by their preferred replica after rebalance-leaders");
  });
}

// A fourth broker (not a controller voter) joins a running cluster, takes a
// replica of partition 0 in place of its preferred replica, becomes its
// leader through rebalance-leaders, and then every broker restarts (SIGTERM).
// The workload's producers and consumers, bootstrapped with all four
// addresses, must carry on; the final drain reads partition 0 from the new
// broker.
TEST_CASE("cluster: a joining broker takes and leads a replica; then all restart", "[cluster]") {
  cluster_options o;
  o.nodes = 4;
  o.voters = 3;
  o.initially_started = 3;
  run_rounds("cluster: a joining broker takes and leads a replica; then all restart", o, false,
             [](run_context& ctx) {
    auto adm = kappa::admin::create(admin_config(ctx.c));
    REQUIRE(adm.ok());
    ctx.c.start(4);
    REQUIRE(ctx.c.wait_listening({4}, 20000));
    bool registered = false;
    for (int attempt = 0; attempt < 100 && !registered; ++attempt) {
      auto d = adm.value()->describe_cluster();
      if (d.ok()) {
        for (const auto& b : d.value().brokers) registered |= (b.id == 4 && b.alive);
      }
      if (!registered) sleep_ms(100);
    }
    REQUIRE(registered);
    ctx.note("broker 4 started and registered");
    auto [leader, replicas] = partition_leader(ctx.c, 0);
    REQUIRE(replicas.size() == 3);
    const std::vector<int32_t> target = {4, replicas[1], replicas[2]};
    REQUIRE(adm.value()->reassign_partition({kTopic, 0}, target).ok());
    const std::string moved = wait_replica_set(*adm.value(), 0, target, 30000);
    INFO("moving partition 0 to broker 4: " << moved);
    REQUIRE(moved.empty());
    int leader0 = -1;
    for (int attempt = 0; attempt < 20 && leader0 != 4; ++attempt) {
      auto moves = adm.value()->rebalance_leaders(10000);
      REQUIRE(moves.ok());
      sleep_ms(500);
      leader0 = partition_leader(ctx.c, 0).first;
    }
    REQUIRE(leader0 == 4);
    ctx.note("partition 0: replicas " + std::to_string(replicas[0]) + "," + std::to_string(replicas[1]) + "," +
             std::to_string(replicas[2]) + " -> 4," + std::to_string(replicas[1]) + "," +
             std::to_string(replicas[2]) + ", led by broker 4");
    for (int id = 1; id <= 4; ++id) {
      if (!ctx.c.stop(id)) ctx.note("broker " + std::to_string(id) + " did not stop cleanly within 20 s");
    }
    ctx.note("stopped every broker (SIGTERM)");
    ctx.c.start_all();
    REQUIRE(ctx.c.wait_listening({1, 2, 3, 4}, 20000));
    ctx.note("restarted every broker");
    // Asked of the broker that lost its replica of partition 0, describe
    // still reports partition 0's log figures (from its leader). kappactl
    // consume stops at that high watermark: a -1 there made it print nothing.
    kappa::client_config one = admin_config(ctx.c);
    one.bootstrap = ctx.c.client_address(replicas[0]);
    auto via_old = kappa::admin::create(one);
    REQUIRE(via_old.ok());
    int64_t hw = -1;
    for (int attempt = 0; attempt < 50 && hw < 0; ++attempt) {
      auto d = via_old.value()->describe_topics({kTopic});
      if (d.ok() && !d.value().empty() && !d.value()[0].partitions.empty()) {
        hw = d.value()[0].partitions[0].high_watermark;
      }
      if (hw < 0) sleep_ms(200);
    }
    CHECK(hw > 0);
    ctx.note("describe via broker " + std::to_string(replicas[0]) + ": partition 0 high watermark " +
             std::to_string(hw));
  });
}

}  // namespace kappa_cluster
