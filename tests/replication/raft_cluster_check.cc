// Cross-node safety checks of the simulated cluster (Raft §5.2, §5.3,
// §5.4): the properties the core must never break, whatever the network
// and crashes did.
#include <algorithm>

#include "tests/replication/raft_cluster.h"

namespace kappa::raft::testing {

void cluster::observe(node_id id) {
  sim_node& s = get(id);
  const node& n = *s.n;
  // Election Safety: at most one leader per term.
  if (n.role() == role::leader) {
    auto [it, inserted] = leaders_.emplace(n.term(), id);
    if (!inserted && it->second != id) {
      violations_.push_back("two leaders in term " + std::to_string(n.term().value) + ": " +
                            std::to_string(it->second.value) + " and " + std::to_string(id.value));
    }
  }
  // The persisted commit (the high watermark) never goes backwards, even
  // across a restart.
  log_index& seen = commit_seen_.try_emplace(id, no_index).first->second;
  if (s.persisted.commit < seen) {
    violations_.push_back("node " + std::to_string(id.value) + " commit went back from " +
                          std::to_string(seen.value) + " to " +
                          std::to_string(s.persisted.commit.value));
  }
  seen = std::max(seen, s.persisted.commit);
  // State Machine Safety: an entry committed anywhere is the entry every
  // node commits at that offset.
  for (const entry& e : s.log->all()) {
    if (e.last_index > s.persisted.commit) break;
    auto [it, inserted] = committed_.emplace(e.base_index, e);
    if (!inserted && it->second != e) {
      violations_.push_back("node " + std::to_string(id.value) + " committed " + to_string(e) +
                            " where another committed " + to_string(it->second));
    }
  }
}

std::string cluster::check() {
  std::vector<std::string> out = violations_;
  // Log Matching: two logs with an entry of the same term at the same offset
  // are identical up to it. Logs are compared where both hold entries (a
  // compacted or restarted log starts later).
  for (auto a = nodes_.begin(); a != nodes_.end(); ++a) {
    for (auto b = std::next(a); b != nodes_.end(); ++b) {
      log_index start = std::max(a->second.log->first_index(), b->second.log->first_index());
      auto from = [start](const std::vector<entry>& es) {
        std::vector<entry> out;
        for (const entry& e : es) {
          if (e.base_index >= start) out.push_back(e);
        }
        return out;
      };
      std::vector<entry> x = from(a->second.log->all());
      std::vector<entry> y = from(b->second.log->all());
      size_t k = 0;
      while (k < x.size() && k < y.size() && x[k] == y[k]) ++k;
      for (size_t i = k; i < x.size(); ++i) {
        for (size_t j = k; j < y.size(); ++j) {
          if (x[i].base_index == y[j].base_index && x[i].term == y[j].term) {
            out.push_back("log matching broken between " + std::to_string(a->first.value) +
                          " and " + std::to_string(b->first.value) + " at " + to_string(x[i]));
          }
        }
      }
      // Everything both have committed lies in the common prefix (below
      // `start` one of them no longer holds it; observe() compared it).
      log_index both = std::min(a->second.persisted.commit, b->second.persisted.commit);
      log_index common = k == 0 ? start - 1 : x[k - 1].last_index;
      if (both > common) {
        out.push_back("nodes " + std::to_string(a->first.value) + " and " +
                      std::to_string(b->first.value) + " disagree at or below commit " +
                      std::to_string(both.value));
      }
    }
  }
  if (out.empty()) return "ok";
  std::string s;
  for (const std::string& v : out) s += "violation: " + v + "\n";
  return s;
}

}  // namespace kappa::raft::testing
