// The simulated cluster behind the Raft script interpreter: nodes over
// memory_logs, an in-memory network with per-destination queues, crashes
// that lose what was not persisted, and cross-node safety checks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replication/raft/raft.h"

namespace kappa::raft::testing {

// One command line: positional arguments and key=value pairs.
struct command_line {
  std::string name;
  std::vector<std::string> args;
  std::map<std::string, std::string> kv;

  bool has(const std::string& k) const { return kv.count(k) != 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  int64_t num(const std::string& k, int64_t def) const { return has(k) ? std::stoll(get(k)) : def; }
  bool flag(const std::string& k, bool def) const { return has(k) ? get(k) == "true" : def; }
  std::vector<node_id> ids(const std::string& k) const {
    std::vector<node_id> out;
    std::string v = get(k);
    if (v.size() >= 2 && v.front() == '(') v = v.substr(1, v.size() - 2);
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (!item.empty()) out.push_back(node_id(std::stoull(item)));
    }
    return out;
  }
  node_id arg_id(size_t i) const { return node_id(std::stoull(args.at(i))); }
};

command_line parse_command(const std::string& line);

class cluster {
 public:
  std::string run(const command_line& c);

 private:
  struct sim_node {
    std::unique_ptr<memory_log> log = std::make_unique<memory_log>();
    hard_state persisted;
    log_index applied = no_index;
    options opts;
    std::unique_ptr<node> n;  // null while crashed
  };

  std::string add_nodes(const command_line& c);
  std::string status_line(node_id id);
  std::string status(node_id id);
  std::string show_log(node_id id);
  std::string process_ready(node_id id);
  std::string deliver(const command_line& c);
  std::string deliver_to(node_id id, std::optional<node_id> from);
  std::string stabilize(std::vector<node_id> ids);
  std::string change_config(const command_line& c);
  std::string restart(const command_line& c);
  std::string damage(node_id id, log_index from);
  // Safety checks over every node (raft_cluster_check.cc); "ok" or the violations.
  std::string check();
  void observe(node_id id);  // records leaders per term and committed entries
  node_id find_leader() const;
  sim_node& get(node_id id) { return nodes_.at(id); }
  node& live(node_id id) {
    KAPPA_ASSERT(get(id).n != nullptr);  // the script addressed a crashed node
    return *get(id).n;
  }
  bool cut(const message& m) const { return isolated_.count(m.from) || isolated_.count(m.to); }

  std::map<node_id, sim_node> nodes_;
  std::map<node_id, std::vector<message>> inbox_;
  std::set<node_id> isolated_;
  std::map<term_id, node_id> leaders_;        // who led each term
  std::map<log_index, entry> committed_;      // every entry any node committed
  std::map<node_id, log_index> commit_seen_;  // highest persisted commit per node
  std::vector<std::string> violations_;
};

}  // namespace kappa::raft::testing
