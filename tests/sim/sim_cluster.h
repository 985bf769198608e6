// One simulated Raft group: nodes of the pure core over memory_logs, a
// network that drops, delays, duplicates, reorders and partitions messages,
// crashes that lose whatever a node had not persisted through ready/advance,
// restarts, leadership transfers and single-server membership changes.
// Every source of randomness is the one PRNG passed in, so a seed replays a
// run exactly (TigerBeetle's VOPR in miniature).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "replication/raft/raft.h"
#include "tests/sim/sim_checker.h"

namespace kappa::raft::sim {

// How hostile the network is; all probabilities per message.
struct network_faults {
  double drop = 0.0;
  double duplicate = 0.0;
  int delay_ticks_max = 0;  // each message waits a uniform [0, max] ticks: reordering
};

// Flow-control limits of every node. Small ones make probing, backtracking
// and commits of a former term's entries (Figure 8) happen often.
struct node_limits {
  uint64_t max_msg_bytes = 64;
  size_t max_inflight = 4;
};

class cluster {
 public:
  cluster(std::mt19937_64& rng, int voters, int election_tick, node_limits limits);

  // --- time and messages ---
  void tick(node_id id);
  // Delivers one message that is due (a random one, so same-tick messages
  // reorder); false when none is due.
  bool deliver_one();
  void advance_clock() { ++now_; }
  // Persists, sends and applies one ready of `id`, in the protocol's order.
  void process_ready(node_id id);
  // As process_ready, but the node crashes partway through persisting: it
  // keeps a prefix of (log restart, truncate, entries..., hard state) and
  // sends nothing.
  void crash_mid_ready(node_id id);

  // --- faults ---
  void crash(node_id id);
  void restart(node_id id);
  // Restarts a crashed node whose recovery found a damaged range: its log
  // loses a random suffix (committed entries too) and it rejoins with
  // options.no_vote_until = its former last offset (protocol-aware
  // recovery). Refused (false) while another node is still recovering,
  // since a group can only rebuild what a majority still holds.
  bool restart_damaged(node_id id);
  // Nodes on different sides cannot talk; an empty map heals.
  void partition(std::map<node_id, int> side) { side_ = std::move(side); }
  void set_network(network_faults f) { faults_ = f; }
  void set_trace(bool on) { trace_ = on; }  // print each delivered message

  // Retention on a running node: drops a random prefix of its log, never
  // past what it has applied (so committed and persisted). The membership
  // as of the new start is kept where a restart finds it. True when done.
  bool compact(node_id id);

  // --- client operations (errors are normal: wrong node, busy, ...) ---
  bool propose(node_id id);                 // true when accepted
  bool transfer(node_id from, node_id to);  // true when accepted
  // One random membership change proposed at `leader`: add a learner (a new
  // node), promote a learner, add a voter, or remove a member.
  bool change_membership(node_id leader);  // true when proposed

  // Runs the checker over the current state; empty when all is well.
  std::vector<std::string> check();
  std::string describe_all() const;

  std::vector<node_id> ids() const;
  bool up(node_id id) const { return nodes_.at(id).n != nullptr; }
  bool has_ready(node_id id) const { return up(id) && nodes_.at(id).n->has_ready(); }
  const node* get(node_id id) const { return nodes_.at(id).n.get(); }
  node_id leader() const;  // the live leader of the highest term, or no_node
  const config& initial() const { return initial_; }
  uint64_t now() const { return now_; }
  size_t in_flight() const { return net_.size(); }
  uint64_t truncations() const { return truncations_; }
  uint64_t compactions() const { return compactions_; }
  uint64_t log_restarts() const { return log_restarts_; }
  uint64_t damages() const { return damages_; }
  const checker& history() const { return checker_; }
  // Violations seen by hooks (truncation) since the last check().
  std::vector<std::string>& pending() { return pending_; }

 private:
  struct sim_node {
    std::unique_ptr<memory_log> log = std::make_unique<memory_log>();
    hard_state persisted;
    log_index applied = no_index;
    options opts;
    std::unique_ptr<node> n;  // null while crashed
    uint64_t life = 0;
    uint64_t log_epoch = 0;
  };
  struct in_flight_msg {
    uint64_t due;
    message m;
  };

  void add_node(node_id id, const config& conf);
  void send(const message& m);
  bool connected(node_id a, node_id b) const;
  void truncate(node_id id, log_index from);
  void restart_log(node_id id, const log_start& ls);
  // Whether the node may still lack committed entries it once held.
  bool recovering(node_id id) const;
  // settled_known: no ready is outstanding, so has_ready() may be asked.
  replica_view view(node_id id, bool settled_known) const;

  std::mt19937_64& rng_;
  config initial_;
  int election_tick_;
  node_limits limits_;
  std::map<node_id, sim_node> nodes_;
  std::vector<in_flight_msg> net_;
  std::map<node_id, int> side_;
  network_faults faults_;
  uint64_t now_ = 0;
  uint64_t proposals_ = 0;
  bool trace_ = false;
  uint64_t truncations_ = 0;
  uint64_t compactions_ = 0;
  uint64_t log_restarts_ = 0;
  uint64_t damages_ = 0;
  checker checker_;
  std::vector<std::string> pending_;
};

}  // namespace kappa::raft::sim
