#include "tests/sim/sim_run.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>

#include "tests/sim/sim_cluster.h"

namespace kappa::raft::sim {
namespace {

// Read by the SIGABRT handler: plain integers, written before each step.
volatile uint64_t g_seed = 0;
volatile uint64_t g_step = 0;
volatile sig_atomic_t g_running = 0;

void on_abort(int) {
  if (g_running) {
    char buf[128];
    int n = std::snprintf(buf, sizeof buf, "\nsim: aborted in seed %llu at step %llu\n",
                          static_cast<unsigned long long>(g_seed),
                          static_cast<unsigned long long>(g_step));
    if (n > 0) (void)!write(2, buf, static_cast<size_t>(n));
  }
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

bool chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}

template <typename T>
T pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// One entry per append at times (max_msg_bytes 1): a follower then acks a
// former term's entries before the new leader's noop, the Figure 8 setting.
node_limits draw_limits(std::mt19937_64& rng) {
  static constexpr uint64_t bytes[] = {1, 16, 64, 1024};
  static constexpr size_t inflight[] = {1, 2, 4, 64};
  node_limits l;
  l.max_msg_bytes = bytes[std::uniform_int_distribution<size_t>(0, 3)(rng)];
  l.max_inflight = inflight[std::uniform_int_distribution<size_t>(0, 3)(rng)];
  return l;
}

class runner {
 public:
  runner(uint64_t seed, const run_options& opts)
      : rng_(seed),
        compact_rng_(seed ^ 0x6b617070612d7265ULL),
        opts_(opts),
        replicas_(chance(rng_, 0.5) ? 3 : 5),
        election_tick_(std::uniform_int_distribution<int>(5, 12)(rng_)),
        limits_(draw_limits(rng_)),
        c_(rng_, replicas_, election_tick_, limits_) {
    res_.seed = seed;
    res_.replicas = static_cast<int>(c_.initial().voters.size());
    faults_.drop = std::uniform_real_distribution<double>(0.0, 0.2)(rng_);
    faults_.duplicate = std::uniform_real_distribution<double>(0.0, 0.1)(rng_);
    faults_.delay_ticks_max = std::uniform_int_distribution<int>(0, 6)(rng_);
    c_.set_network(faults_);
    c_.set_trace(opts.trace);
    bool long_run = chance(rng_, 0.15);
    int drawn = long_run ? std::uniform_int_distribution<int>(1500, 4000)(rng_)
                         : std::uniform_int_distribution<int>(200, 600)(rng_);
    res_.fault_ticks = opts.fault_ticks > 0 ? opts.fault_ticks : drawn;
    res_.fault_ticks_overridden = opts.fault_ticks > 0;
    // Each seed has its own weather: some calm, some stormy. Per tick,
    // except crash_mid_ready (per ready).
    auto rate = [&](double hi) { return std::uniform_real_distribution<double>(0.0, hi)(rng_); };
    rates_ = {.crash = rate(0.03),
              .crash_mid_ready = rate(0.008),
              .restart = 0.02 + rate(0.1),
              .partition = rate(0.03),
              .heal = 0.01 + rate(0.04),
              .transfer = rate(0.03),
              .membership = rate(0.03),
              .strike_new_leader = chance(rng_, 0.5) ? rate(0.5) : 0.0};
    // Retention draws from its own PRNG, so a seed that never compacts
    // runs exactly as it did before compaction was simulated. Half the
    // seeds compact: now and then a random replica drops a prefix of its
    // log up to what it applied, which sends followers behind it through
    // install_start.
    if (std::uniform_int_distribution<int>(0, 1)(compact_rng_) == 1) {
      compact_rate_ = std::uniform_real_distribution<double>(0.0, 0.1)(compact_rng_);
    }
    // A quarter of the seeds damage logs: a restart now and then finds a
    // damaged range and drops it, committed entries included; the node
    // rejoins without voting (no_vote_until) until refilled. Those seeds
    // make no membership changes: a group shrunk to two voters could not
    // elect anyone while one of them is recovering (a liveness limit of
    // protocol-aware recovery, not a safety one).
    if (std::uniform_int_distribution<int>(0, 3)(compact_rng_) == 0) {
      damage_rate_ = std::uniform_real_distribution<double>(0.05, 0.5)(compact_rng_);
      rates_.membership = 0.0;
    }
  }

  run_result run() {
    g_seed = res_.seed;
    g_running = 1;
    for (int t = 0; t < res_.fault_ticks && res_.ok; ++t) fault_tick();
    if (res_.ok) heal_and_wait();
    g_running = 0;
    res_.committed = static_cast<int64_t>(c_.history().committed().size());
    res_.counts.truncations = c_.truncations();
    res_.counts.compactions = c_.compactions();
    res_.counts.log_restarts = c_.log_restarts();
    res_.counts.damages = c_.damages();
    for (node_id id : c_.ids()) {
      if (c_.up(id))
        res_.counts.max_term = std::max(res_.counts.max_term, c_.get(id)->term().value);
    }
    if (res_.ok) res_.step = step_;
    return res_;
  }

 private:
  // One step done: check every invariant now.
  void step(const char* what) {
    ++step_;
    g_step = step_;
    if (opts_.trace) std::cout << "step " << step_ << " t=" << c_.now() << " " << what << "\n";
    std::vector<std::string> v = c_.check();
    if (v.empty() || !res_.ok) return;
    res_.ok = false;
    res_.step = step_;
    for (const std::string& s : v) res_.failure += s + "\n";
    res_.failure += "after: " + std::string(what) + "\n" + c_.describe_all();
  }

  // Everything due at this instant: messages arrive and nodes process their
  // readies, interleaved at random. Bounded: a tick's chatter always ends.
  void drain() {
    for (int i = 0; i < 20000 && res_.ok; ++i) {
      std::vector<node_id> busy;
      for (node_id id : c_.ids()) {
        if (c_.has_ready(id)) busy.push_back(id);
      }
      bool deliver = busy.empty() || chance(rng_, 0.5);
      if (deliver && c_.deliver_one()) {
        step("deliver");
        continue;
      }
      if (busy.empty()) return;
      node_id id = pick(rng_, busy);
      if (in_fault_phase_ && chance(rng_, rates_.crash_mid_ready)) {
        c_.crash_mid_ready(id);
        ++res_.counts.mid_ready_crashes;
        step("crash mid-ready");
      } else {
        c_.process_ready(id);
        step("ready");
        if (in_fault_phase_) strike_new_leader(id);
      }
    }
  }

  void fault_tick() {
    std::vector<node_id> ids = c_.ids();
    node_id id = pick(rng_, ids);
    if (chance(rng_, rates_.crash) && c_.up(id)) {
      c_.crash(id);
      ++res_.counts.crashes;
      step("crash");
    }
    if (chance(rng_, rates_.restart)) {
      node_id r = pick(rng_, ids);
      if (!c_.up(r)) {
        if (damage_rate_ > 0 && chance(compact_rng_, damage_rate_) && c_.restart_damaged(r)) {
          step("restart with a damaged log");
        } else {
          c_.restart(r);
          step("restart");
        }
        ++res_.counts.restarts;
      }
    }
    if (chance(rng_, rates_.partition)) partition(ids);
    if (chance(rng_, rates_.heal)) {
      c_.partition({});
      step("heal partition");
    }
    node_id lead = c_.leader();
    if (lead != no_node && chance(rng_, rates_.transfer)) {
      res_.counts.transfers += c_.transfer(lead, pick(rng_, ids));
      step("transfer leadership");
    }
    if (lead != no_node && chance(rng_, rates_.membership)) {
      res_.counts.membership_changes += c_.change_membership(lead);
      step("membership change");
    }
    if (compact_rate_ > 0 && chance(compact_rng_, compact_rate_)) {
      std::vector<node_id> ids_now = c_.ids();
      if (c_.compact(pick(compact_rng_, ids_now))) step("compact");
    }
    if (chance(rng_, 0.3)) {
      // Mostly at the leader; sometimes at anyone, which must be refused.
      c_.propose(lead != no_node && chance(rng_, 0.9) ? lead : id);
      step("propose");
    }
    tick_all();
  }

  // Raft's hardest cases (Figure 8) need a leader that fails just after
  // its election, its first entries only on its own disk or a minority:
  // uniform random faults almost never line that up, so aim at it.
  void strike_new_leader(node_id id) {
    const node* n = c_.get(id);
    if (!n || n->role() != role::leader || n->term().value <= struck_term_) return;
    struck_term_ = n->term().value;
    if (!chance(rng_, rates_.strike_new_leader)) return;
    if (chance(rng_, 0.5)) {
      c_.crash(id);
      ++res_.counts.crashes;
      step("crash new leader");
    } else {
      c_.partition({{id, 1}});  // what it just sent is cut on the wire too
      ++res_.counts.partitions;
      step("isolate new leader");
    }
  }

  void partition(const std::vector<node_id>& ids) {
    std::map<node_id, int> side;
    if (chance(rng_, 0.5)) {
      side[pick(rng_, ids)] = 1;  // isolate one node
    } else {
      for (node_id id : ids) side[id] = chance(rng_, 0.5) ? 1 : 0;  // a random split
    }
    c_.partition(side);
    ++res_.counts.partitions;
    step("partition");
  }

  void tick_all() {
    drain();
    std::vector<node_id> ids = c_.ids();
    std::shuffle(ids.begin(), ids.end(), rng_);
    for (node_id id : ids) c_.tick(id);
    c_.advance_clock();
    step("tick");
    drain();
  }

  // All faults stop: every node restarts, the network heals and stops
  // losing messages. A leader must be elected and a proposal committed.
  void heal_and_wait() {
    in_fault_phase_ = false;
    for (node_id id : c_.ids()) c_.restart(id);
    c_.partition({});
    c_.set_network({.drop = 0, .duplicate = 0, .delay_ticks_max = 1});
    step("heal all");
    // Proposed at (leader, term); a new leader or term proposes again.
    std::pair<node_id, term_id> proposed_at{no_node, term_id(0)};
    log_index base = no_index;
    for (int t = 0; t < opts_.liveness_ticks && res_.ok; ++t) {
      node_id lead = c_.leader();
      if (lead != no_node) {
        const node* n = c_.get(lead);
        std::pair<node_id, term_id> now{lead, n->term()};
        if (now != proposed_at) {
          base = n->log().last_index() + 1;
          // Refused during a leadership transfer left from the fault
          // phase: try again next tick.
          if (c_.propose(lead)) proposed_at = now;
          step("liveness propose");
        } else if (n->log().commit() >= base) {
          return;
        }
      }
      tick_all();
    }
    if (!res_.ok) return;
    res_.ok = false;
    res_.step = step_;
    res_.failure = "liveness: no proposal committed within " +
                   std::to_string(opts_.liveness_ticks) + " ticks of healing\n" + c_.describe_all();
  }

  struct fault_rates {
    double crash, crash_mid_ready, restart, partition, heal, transfer, membership;
    double strike_new_leader;  // per newly elected leader
  };

  std::mt19937_64 rng_;
  std::mt19937_64 compact_rng_;
  double compact_rate_ = 0.0;  // per fault tick; 0: this seed never compacts
  double damage_rate_ = 0.0;   // per restart; 0: this seed never damages a log
  run_options opts_;
  fault_rates rates_{};
  int replicas_;  // drawn before the cluster, in this order, for replay
  int election_tick_;
  node_limits limits_;
  cluster c_;
  network_faults faults_;
  run_result res_;
  uint64_t step_ = 0;
  bool in_fault_phase_ = true;
  uint64_t struck_term_ = 0;  // the last term whose new leader was considered
};

}  // namespace

run_result run_seed(uint64_t seed, const run_options& opts) {
  return runner(seed, opts).run();
}

void install_abort_reporter() {
  std::signal(SIGABRT, on_abort);
}

void run_counts::add(const run_counts& o) {
  crashes += o.crashes;
  mid_ready_crashes += o.mid_ready_crashes;
  restarts += o.restarts;
  partitions += o.partitions;
  transfers += o.transfers;
  membership_changes += o.membership_changes;
  truncations += o.truncations;
  compactions += o.compactions;
  log_restarts += o.log_restarts;
  damages += o.damages;
  max_term = std::max(max_term, o.max_term);
}

std::string run_counts::to_string() const {
  return std::to_string(crashes) + " crashes (+" + std::to_string(mid_ready_crashes) +
         " mid-ready), " + std::to_string(restarts) + " restarts, " + std::to_string(partitions) +
         " partitions, " + std::to_string(transfers) + " transfers, " +
         std::to_string(membership_changes) + " membership changes, " +
         std::to_string(truncations) + " truncations, " + std::to_string(compactions) +
         " compactions, " + std::to_string(log_restarts) + " log restarts, " +
         std::to_string(damages) + " damaged restarts, max term " +
         std::to_string(max_term);
}

std::string failure_report(const run_result& r) {
  std::string seed = std::to_string(r.seed);
  std::string head = "sim: seed " + seed + " FAILED at step " + std::to_string(r.step) + " (" +
                     std::to_string(r.replicas) + " replicas, " + std::to_string(r.fault_ticks) +
                     " fault ticks)\n" + r.failure;
  if (r.fault_ticks_overridden) {
    return head + "replay: kappa-sim --seed " + seed + " --fault-ticks " +
           std::to_string(r.fault_ticks) + " [--trace]\n";
  }
  return head + "replay: sim_tests --seed " + seed + "  (or KAPPA_SIM_SEED=" + seed +
         ", or kappa-sim --seed " + seed + " [--trace])\n";
}

}  // namespace kappa::raft::sim
