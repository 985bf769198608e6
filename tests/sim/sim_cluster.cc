#include "tests/sim/sim_cluster.h"

#include <algorithm>
#include <iostream>

namespace kappa::raft::sim {
namespace {

// The most node ids a group ever uses (initial members plus joiners), so a
// long run of membership changes cannot grow the simulation without limit.
constexpr uint64_t max_node_id = 9;

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

}  // namespace

cluster::cluster(std::mt19937_64& rng, int voters, int election_tick, node_limits limits)
    : rng_(rng), election_tick_(election_tick), limits_(limits) {
  for (int i = 1; i <= voters; ++i) initial_.voters.push_back(node_id(static_cast<uint64_t>(i)));
  for (node_id id : initial_.voters) add_node(id, initial_);
}

void cluster::add_node(node_id id, const config& conf) {
  sim_node& s = nodes_[id];
  s.opts.id = id;
  s.opts.log = s.log.get();
  s.opts.conf = conf;  // empty for a joiner: it learns its membership from the log
  s.opts.election_tick = election_tick_;
  s.opts.heartbeat_tick = 1;
  s.opts.seed = rng_();
  s.opts.max_msg_bytes = limits_.max_msg_bytes;
  s.opts.max_inflight = limits_.max_inflight;
  s.n = std::move(node::create(s.opts)).value();
}

std::vector<node_id> cluster::ids() const {
  std::vector<node_id> out;
  for (const auto& [id, s] : nodes_) out.push_back(id);
  return out;
}

node_id cluster::leader() const {
  node_id best = no_node;
  term_id best_term;
  for (const auto& [id, s] : nodes_) {
    if (s.n && s.n->role() == role::leader && s.n->term() >= best_term) {
      best = id;
      best_term = s.n->term();
    }
  }
  return best;
}

void cluster::tick(node_id id) {
  if (up(id)) nodes_.at(id).n->tick();
}

bool cluster::connected(node_id a, node_id b) const {
  auto sa = side_.find(a), sb = side_.find(b);
  int x = sa == side_.end() ? 0 : sa->second, y = sb == side_.end() ? 0 : sb->second;
  return x == y;
}

void cluster::send(const message& m) {
  if (!nodes_.count(m.to) || !connected(m.from, m.to)) return;
  std::uniform_real_distribution<double> p(0.0, 1.0);
  if (p(rng_) < faults_.drop) return;
  int copies = p(rng_) < faults_.duplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    uint64_t delay = std::uniform_int_distribution<uint64_t>(
        0, static_cast<uint64_t>(faults_.delay_ticks_max))(rng_);
    net_.push_back({now_ + delay, m});
  }
}

bool cluster::deliver_one() {
  std::vector<size_t> due;
  for (size_t i = 0; i < net_.size(); ++i) {
    if (net_[i].due <= now_) due.push_back(i);
  }
  if (due.empty()) return false;
  size_t i = pick(rng_, due);
  message m = std::move(net_[i].m);
  net_.erase(net_.begin() + static_cast<std::ptrdiff_t>(i));
  // A crashed node misses what arrives while it is down; a partition also
  // cuts messages that were already on the wire.
  if (!up(m.to) || !connected(m.from, m.to)) return true;
  if (trace_) std::cout << "  " << to_string(m) << "\n";
  Status st = nodes_.at(m.to).n->step(m);
  if (!st.ok()) pending_.push_back("step refused " + to_string(m) + ": " + st.message());
  return true;
}

void cluster::truncate(node_id id, log_index from) {
  sim_node& s = nodes_.at(id);
  std::string v = checker_.on_truncate(view(id, false), from);
  if (!v.empty()) pending_.push_back(v);
  KAPPA_ASSERT(s.log->truncate_from(from).ok());
  ++s.log_epoch;
  ++truncations_;
}

void cluster::restart_log(node_id id, const log_start& ls) {
  sim_node& s = nodes_.at(id);
  std::string v = checker_.on_restart_log(view(id, false), ls.start, ls.prev_term);
  if (!v.empty()) pending_.push_back(v);
  s.log->reset(ls.start, ls.prev_term);
  // Written with the log restart (as a runner would, in one metadata
  // write): the membership whose config entry is no longer in the log.
  s.opts.conf = ls.conf;
  s.opts.conf_index = ls.conf_index;
  s.applied = std::max(s.applied, ls.start - 1);  // nothing below the start is left to apply
  ++s.log_epoch;
  ++log_restarts_;
}

bool cluster::compact(node_id id) {
  sim_node& s = nodes_.at(id);
  if (!s.n) return false;
  log_index limit = std::min(s.applied, s.persisted.commit);
  std::vector<log_index> ends;  // entry ends at or below the limit
  for (const entry& e : s.log->all()) {
    if (e.last_index > limit) break;
    ends.push_back(e.last_index);
  }
  if (ends.empty()) return false;
  log_index to = pick(rng_, ends) + 1;
  for (const entry& e : s.log->all()) {
    if (e.base_index >= to) break;
    config c;
    if (e.type == entry_type::config && decode_config(e.payload, &c)) {
      s.opts.conf = c;
      s.opts.conf_index = e.base_index;
    }
  }
  KAPPA_ASSERT(s.log->compact_to(to).ok());
  ++s.log_epoch;
  ++compactions_;
  return true;
}

void cluster::process_ready(node_id id) {
  sim_node& s = nodes_.at(id);
  if (!has_ready(id)) return;
  ready rd = s.n->get_ready();
  // 1. persist (the memory_log is durable the moment it is written)
  if (rd.restart_log) restart_log(id, *rd.restart_log);
  if (rd.truncate_from) truncate(id, *rd.truncate_from);
  KAPPA_ASSERT(s.log->append(rd.entries).ok());
  if (rd.hard) s.persisted = *rd.hard;
  // 2. send, only now that what the messages promise is on disk
  for (const message& m : rd.messages) send(m);
  // 3. apply: the high watermark moves over committed, persisted entries
  for (const entry& e : rd.committed_entries) {
    if (e.base_index != s.applied + 1 || e.last_index > s.persisted.commit) {
      pending_.push_back("node " + std::to_string(id.value) + " applies " + to_string(e) +
                         " out of order or above its persisted commit");
    }
    s.applied = e.last_index;
  }
  s.n->advance(rd);
  // Recovery is over once the log is back at its mark (the runner records it).
  if (!s.n->recovering()) s.opts.no_vote_until = no_index;
}

void cluster::crash_mid_ready(node_id id) {
  sim_node& s = nodes_.at(id);
  if (!has_ready(id)) return crash(id);
  ready rd = s.n->get_ready();
  // The writes of step 1 reach the disk in order; the crash keeps a prefix.
  // Stages: truncate, each entry, hard state (and a log restart first, when
  // there is one, so seeds without one draw as before).
  size_t restart = rd.restart_log ? 1 : 0;
  size_t stages = 2 + rd.entries.size() + restart;
  size_t kept = std::uniform_int_distribution<size_t>(0, stages)(rng_);
  if (kept >= 1 && rd.restart_log) restart_log(id, *rd.restart_log);
  if (kept >= 1 + restart && rd.truncate_from) truncate(id, *rd.truncate_from);
  size_t entries = std::min(rd.entries.size(), kept >= 1 + restart ? kept - 1 - restart : 0);
  KAPPA_ASSERT(
      s.log->append({rd.entries.begin(), rd.entries.begin() + static_cast<std::ptrdiff_t>(entries)})
          .ok());
  if (kept == stages && rd.hard) s.persisted = *rd.hard;
  s.n.reset();  // the ready dies with the process: no advance
}

void cluster::crash(node_id id) {
  nodes_.at(id).n.reset();
}

void cluster::restart(node_id id) {
  sim_node& s = nodes_.at(id);
  if (s.n) return;
  options o = s.opts;
  o.hard = s.persisted;
  o.applied = std::min(s.applied, s.persisted.commit);
  o.seed = rng_();
  s.n = std::move(node::create(o)).value();
  ++s.life;
}

bool cluster::recovering(node_id id) const {
  const sim_node& s = nodes_.at(id);
  if (s.n) return s.n->recovering();
  return s.log->last_index() < s.opts.no_vote_until;
}

bool cluster::restart_damaged(node_id id) {
  sim_node& s = nodes_.at(id);
  if (s.n) return false;
  for (const auto& [other, o] : nodes_) {
    if (recovering(other)) return false;
  }
  // The damage never reaches the recorded membership (the runner keeps it
  // outside the log) nor below the log start.
  std::vector<log_index> bases;
  for (const entry& e : s.log->all()) {
    if (e.base_index > s.opts.conf_index) bases.push_back(e.base_index);
  }
  if (bases.empty()) return false;
  log_index mark = s.log->last_index();
  KAPPA_ASSERT(s.log->truncate_from(pick(rng_, bases)).ok());
  log_index last = s.log->last_index();
  s.persisted.commit = std::min(s.persisted.commit, last);
  s.applied = std::min(s.applied, last);
  ++s.log_epoch;
  checker_.on_damage(view(id, false));
  s.opts.no_vote_until = mark;
  ++damages_;
  restart(id);
  return true;
}

bool cluster::propose(node_id id) {
  if (!up(id)) return false;
  int64_t offsets = std::uniform_int_distribution<int64_t>(1, 3)(rng_);
  return nodes_.at(id).n->propose("p" + std::to_string(++proposals_), offsets).ok();
}

bool cluster::transfer(node_id from, node_id to) {
  return up(from) && nodes_.at(from).n->transfer_leadership(to).ok();
}

bool cluster::change_membership(node_id leader) {
  if (!up(leader)) return false;
  node& l = *nodes_.at(leader).n;
  const config& c = l.membership();
  config_change cc{.type = config_change::kind::remove, .node = no_node};
  int choice = std::uniform_int_distribution<int>(0, 3)(rng_);
  node_id next(nodes_.rbegin()->first.value + 1);
  if (choice == 0 && !c.learners.empty()) {
    cc = {config_change::kind::promote, pick(rng_, c.learners)};
  } else if (choice <= 1 && c.voters.size() < 5 && next.value <= max_node_id) {
    cc = {choice == 0 ? config_change::kind::add_voter : config_change::kind::add_learner, next};
  } else if (c.voters.size() > 2) {
    std::vector<node_id> members = c.voters;
    members.insert(members.end(), c.learners.begin(), c.learners.end());
    cc = {config_change::kind::remove, pick(rng_, members)};
  } else {
    return false;
  }
  if (!l.propose_config_change(cc).ok()) return false;
  // A joiner starts empty and without a membership, as a new broker would.
  if (!nodes_.count(cc.node)) add_node(cc.node, config{});
  return true;
}

replica_view cluster::view(node_id id, bool settled_known) const {
  const sim_node& s = nodes_.at(id);
  replica_view v{.id = id,
                 .up = s.n != nullptr,
                 .life = s.life,
                 .persisted = s.persisted,
                 .log = &s.log->all(),
                 .log_start = s.log->first_index(),
                 .start_prev_term = *s.log->term(s.log->first_index() - 1),
                 .log_epoch = s.log_epoch};
  if (s.n) {
    v.role = s.n->role();
    v.term = s.n->term();
    v.commit = s.n->log().commit();
    v.settled = settled_known && !s.n->has_ready();
  }
  return v;
}

std::vector<std::string> cluster::check() {
  std::vector<replica_view> views;
  for (const auto& [id, s] : nodes_) views.push_back(view(id, true));
  std::vector<std::string> out = std::move(pending_);
  pending_.clear();
  std::vector<std::string> more = checker_.check(views);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::string cluster::describe_all() const {
  std::string s = "t=" + std::to_string(now_) + " in-flight=" + std::to_string(net_.size()) + "\n";
  for (const auto& [id, n] : nodes_) {
    s += "  " + describe(view(id, false)) + " applied=" + std::to_string(n.applied.value);
    if (n.n) s += " conf=" + to_string(n.n->membership());
    s += "\n";
  }
  return s;
}

}  // namespace kappa::raft::sim
