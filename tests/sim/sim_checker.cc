#include "tests/sim/sim_checker.h"

#include <algorithm>
#include <functional>

#include "proto/format/assert.h"

namespace kappa::raft::sim {
namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  // FNV-style mixing: collisions would only hide a violation, never invent one.
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

uint64_t hash_entry(const entry& e) {
  uint64_t h = mix(e.term.value, static_cast<uint64_t>(e.base_index.value));
  h = mix(h, static_cast<uint64_t>(e.last_index.value));
  h = mix(h, static_cast<uint64_t>(e.type));
  return mix(h, std::hash<std::string>{}(e.payload));
}

std::string who(const replica_view& r) {
  return "node " + std::to_string(r.id.value);
}

// The position of the entry that starts at `base`, or -1.
int64_t find_base(const std::vector<entry>& log, log_index base) {
  auto it = std::lower_bound(log.begin(), log.end(), base,
                             [](const entry& e, log_index b) { return e.base_index < b; });
  if (it == log.end() || it->base_index != base) return -1;
  return it - log.begin();
}

}  // namespace

std::string describe(const replica_view& r) {
  std::string s = who(r) + (r.up ? std::string(" ") + to_string(r.role) : " down") +
                  " term=" + std::to_string(r.term.value) +
                  " commit=" + std::to_string(r.commit.value) +
                  " persisted=" + to_string(r.persisted) + " log:";
  size_t from = r.log->size() > 6 ? r.log->size() - 6 : 0;
  if (from > 0) s += " ...";
  for (size_t i = from; i < r.log->size(); ++i) {
    const entry& e = (*r.log)[i];
    s += " " + std::to_string(e.term.value) + "/[" + std::to_string(e.base_index.value) + "," +
         std::to_string(e.last_index.value) + "]";
  }
  return s;
}

std::vector<std::string> checker::check(const std::vector<replica_view>& replicas) {
  std::vector<std::string> out;
  for (const replica_view& r : replicas) {
    max_term_ = std::max({max_term_, r.term, r.persisted.term});
  }
  for (const replica_view& r : replicas) {
    replica_cache& c = cache_[r.id];
    // Election Safety (§5.2): at most one leader per term.
    if (r.up && r.role == role::leader) {
      auto [it, inserted] = leaders_.emplace(r.term, r.id);
      if (!inserted && it->second != r.id) {
        out.push_back("two leaders in term " + std::to_string(r.term.value) + ": node " +
                      std::to_string(it->second.value) + " and " + who(r));
      }
    }
    check_log(r, c, out);
    check_commit(r, c, out);
    if (r.up && r.settled && r.role == role::leader) check_leader_completeness(r, out);
  }
  return out;
}

// Log Matching (§5.3): an entry with a given term and offset is created once,
// on top of one prefix, so every copy of it anywhere, at any time, sits on
// the same prefix.
void checker::check_log(const replica_view& r, replica_cache& c, std::vector<std::string>& out) {
  const std::vector<entry>& log = *r.log;
  if (c.log_epoch != r.log_epoch || c.verified > log.size()) {
    c = replica_cache{.persisted_commit = c.persisted_commit, .life = c.life, .commit = c.commit};
    c.log_epoch = r.log_epoch;
    if (r.log_start > log_index(0)) {
      // A log that starts later continues the committed prefix that ends
      // at start - 1: its entries' prefixes extend that one's.
      const entry* before = committed_at(r.log_start - 1);
      if (before == nullptr || before->last_index != r.log_start - 1 ||
          before->term != r.start_prev_term) {
        out.push_back(who(r) + " log starts at " + std::to_string(r.log_start.value) +
                      " after term " + std::to_string(r.start_prev_term.value) +
                      ", which is not the end of a committed entry of that term");
        c.verified = log.size();  // nothing to compare the rest with
        return;
      }
      auto known = prefixes_.find({before->base_index, before->term});
      KAPPA_ASSERT(known != prefixes_.end());  // a committed entry was checked when first seen
      c.prefix_hash = known->second;
    }
  }
  for (; c.verified < log.size(); ++c.verified) {
    const entry& e = log[c.verified];
    log_index expect = c.verified == 0 ? r.log_start : log[c.verified - 1].last_index + 1;
    if (e.base_index != expect || e.last_index < e.base_index) {
      out.push_back(who(r) + " log is not contiguous at " + to_string(e));
    }
    c.prefix_hash = mix(c.prefix_hash, hash_entry(e));
    auto [it, inserted] = prefixes_.emplace(std::pair{e.base_index, e.term}, c.prefix_hash);
    if (!inserted && it->second != c.prefix_hash) {
      out.push_back("log matching broken: " + who(r) + " holds " + to_string(e) +
                    " on a prefix that differs from another copy of it");
    }
  }
}

// The high watermark never goes back, and what it covers never changes.
void checker::check_commit(const replica_view& r, replica_cache& c, std::vector<std::string>& out) {
  if (r.persisted.commit < c.persisted_commit) {
    out.push_back(who(r) + " persisted commit went back from " +
                  std::to_string(c.persisted_commit.value) + " to " +
                  std::to_string(r.persisted.commit.value));
  }
  c.persisted_commit = std::max(c.persisted_commit, r.persisted.commit);
  if (r.up) {
    if (c.life != r.life) {
      c.life = r.life;
      c.commit = r.commit;
      if (r.commit < r.persisted.commit) {
        out.push_back(who(r) + " restarted below its persisted commit");
      }
    }
    if (r.commit < c.commit) {
      out.push_back(who(r) + " commit went back from " + std::to_string(c.commit.value) + " to " +
                    std::to_string(r.commit.value));
    }
    c.commit = std::max(c.commit, r.commit);
  }
  const std::vector<entry>& log = *r.log;
  log_index stable_last = log.empty() ? r.log_start - 1 : log.back().last_index;
  if (stable_last < r.persisted.commit) {
    out.push_back(who(r) + " lost committed entries: log ends at " +
                  std::to_string(stable_last.value) + " below persisted commit " +
                  std::to_string(r.persisted.commit.value));
  }
  // The in-memory commit may cover entries that are not stable yet, and the
  // stable ones at those offsets may be about to be replaced: only the
  // persisted commit speaks for the stable log.
  log_index cp = r.persisted.commit;
  // State Machine Safety (§5.4.3): every replica commits the same entry at
  // an offset; an entry is recorded the first time any replica commits it.
  for (; c.verified_committed < log.size() && log[c.verified_committed].last_index <= cp;
       ++c.verified_committed) {
    const entry& e = log[c.verified_committed];
    auto next = committed_.upper_bound(e.base_index);
    if (next != committed_.begin() && std::prev(next)->second.contains(e.base_index)) {
      const entry& known = std::prev(next)->second;
      if (known != e) {
        out.push_back(who(r) + " committed " + to_string(e) + " where " + to_string(known) +
                      " was committed");
      }
      continue;
    }
    if (next != committed_.end() && next->first <= e.last_index) {
      out.push_back(who(r) + " committed " + to_string(e) + " overlapping committed " +
                    to_string(next->second));
      continue;
    }
    committed_.emplace(e.base_index, e);
    committed_term_.emplace(e.base_index, max_term_);
  }
}

// Leader Completeness (§5.4): a leader elected after an entry was committed
// holds it. By log matching it is enough to find the latest such entry.
void checker::check_leader_completeness(const replica_view& r, std::vector<std::string>& out) {
  for (auto it = committed_.rbegin(); it != committed_.rend(); ++it) {
    if (committed_term_.at(it->first) >= r.term) continue;
    // Below the log start: check_log tied the start to the committed prefix.
    if (it->first < r.log_start) return;
    int64_t pos = find_base(*r.log, it->first);
    if (pos < 0 || (*r.log)[static_cast<size_t>(pos)] != it->second) {
      out.push_back("leader " + who(r) + " of term " + std::to_string(r.term.value) +
                    " lacks committed " + to_string(it->second));
    }
    return;
  }
}

const entry* checker::committed_at(log_index i) const {
  auto next = committed_.upper_bound(i);
  if (next == committed_.begin()) return nullptr;
  const entry& e = std::prev(next)->second;
  return e.contains(i) ? &e : nullptr;
}

std::string checker::on_restart_log(const replica_view& r, log_index start, term_id prev_term) {
  if (start - 1 < r.persisted.commit) {
    return who(r) + " restarts its log at " + std::to_string(start.value) +
           " below its persisted commit " + std::to_string(r.persisted.commit.value);
  }
  if (start > log_index(0)) {
    const entry* before = committed_at(start - 1);
    if (before == nullptr || before->last_index != start - 1 || before->term != prev_term) {
      return who(r) + " restarts its log at " + std::to_string(start.value) + " after term " +
             std::to_string(prev_term.value) + ", not after a committed entry of that term";
    }
  }
  // What lies at or after the new start is dropped for good: it must not
  // be committed anywhere. (Below the start, the committed prefix stands.)
  for (const entry& e : *r.log) {
    if (e.base_index < start) continue;
    auto it = committed_.find(e.base_index);
    if (it != committed_.end() && it->second == e) {
      return who(r) + " drops committed " + to_string(e) + " restarting its log";
    }
  }
  return "";
}

std::string checker::on_truncate(const replica_view& r, log_index from) {
  // The in-memory commit may already cover the replacements (they arrived
  // with the leader's commit); the persisted one never may.
  if (from <= r.persisted.commit) {
    return who(r) + " truncates from " + std::to_string(from.value) +
           " at or below its persisted commit " + std::to_string(r.persisted.commit.value);
  }
  // No replica may drop an entry that any replica committed, even one it
  // does not yet know to be committed.
  int64_t pos = std::max<int64_t>(0, find_base(*r.log, from));
  for (size_t i = static_cast<size_t>(pos); i < r.log->size(); ++i) {
    const entry& e = (*r.log)[i];
    auto it = committed_.find(e.base_index);
    if (it != committed_.end() && it->second == e) {
      return who(r) + " truncates committed " + to_string(e);
    }
  }
  return "";
}

}  // namespace kappa::raft::sim
