#include "tests/replication/raft_cluster.h"

#include <algorithm>

namespace kappa::raft::testing {
namespace {

std::string indent(const std::string& s) {
  return "  " + s + "\n";
}

std::string result_text(const Status& s) {
  return s.ok() ? "ok" : "error: " + s.message();
}

}  // namespace

command_line parse_command(const std::string& line) {
  command_line c;
  std::stringstream ss(line);
  ss >> c.name;
  std::string tok;
  while (ss >> tok) {
    auto eq = tok.find('=');
    if (eq == std::string::npos) {
      c.args.push_back(tok);
    } else {
      c.kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
  }
  return c;
}

std::string cluster::run(const command_line& c) {
  if (c.name == "add-nodes") return add_nodes(c);
  if (c.name == "campaign") {
    live(c.arg_id(0)).campaign();
    return status_line(c.arg_id(0));
  }
  if (c.name == "tick" || c.name == "tick-election" || c.name == "tick-heartbeat") {
    node_id id = c.arg_id(0);
    int64_t n = c.num("count", 1);
    if (c.name == "tick-election") n = get(id).opts.election_tick;
    if (c.name == "tick-heartbeat") n = get(id).opts.heartbeat_tick;
    for (int64_t i = 0; i < n; ++i) live(id).tick();
    return status_line(id);
  }
  if (c.name == "propose") {
    Result<log_index> r = live(c.arg_id(0)).propose(c.args.at(1), c.num("count", 1));
    return r.ok() ? "ok base=" + std::to_string(r->value) : result_text(r.status());
  }
  if (c.name == "process-ready") {
    std::string out;
    for (size_t i = 0; i < c.args.size(); ++i) out += process_ready(c.arg_id(i));
    return out;
  }
  if (c.name == "deliver-msgs") return deliver(c);
  if (c.name == "stabilize") {
    std::vector<node_id> ids;
    bool quiet = false;
    for (size_t i = 0; i < c.args.size(); ++i) {
      if (c.args[i] == "quiet") {
        quiet = true;
      } else {
        ids.push_back(c.arg_id(i));
      }
    }
    std::string out = stabilize(ids);
    return quiet ? "" : out;
  }
  if (c.name == "isolate") {
    isolated_.insert(c.arg_id(0));
    return "ok";
  }
  if (c.name == "heal") {
    isolated_.clear();
    return "ok";
  }
  if (c.name == "transfer-leadership") {
    node_id from(std::stoull(c.get("from"))), to(std::stoull(c.get("to")));
    return result_text(live(from).transfer_leadership(to));
  }
  if (c.name == "add-voter" || c.name == "add-learner" || c.name == "promote" ||
      c.name == "remove-node") {
    return change_config(c);
  }
  if (c.name == "status") return status(c.arg_id(0));
  if (c.name == "log") return show_log(c.arg_id(0));
  if (c.name == "crash") {
    get(c.arg_id(0)).n.reset();
    inbox_.erase(c.arg_id(0));
    return "ok";
  }
  if (c.name == "restart") return restart(c);
  if (c.name == "damage") return damage(c.arg_id(0), log_index(std::stoll(c.args.at(1))));
  if (c.name == "check") return check();
  if (c.name == "compact") {
    return result_text(get(c.arg_id(0)).log->compact_to(log_index(std::stoll(c.args.at(1)))));
  }
  return "unknown command " + c.name;
}

std::string cluster::add_nodes(const command_line& c) {
  int64_t n = std::stoll(c.args.at(0));
  node_id first(nodes_.empty() ? 1 : nodes_.rbegin()->first.value + 1);
  config conf;
  conf.voters = c.ids("voters");
  conf.learners = c.ids("learners");
  if (!c.has("voters")) {
    for (int64_t i = 0; i < n; ++i)
      conf.voters.push_back(node_id(first.value + static_cast<uint64_t>(i)));
  }
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    node_id id(first.value + static_cast<uint64_t>(i));
    sim_node& s = nodes_[id];
    s.opts.id = id;
    s.opts.log = s.log.get();
    s.opts.conf = conf;
    s.opts.seed = id.value;
    s.opts.pre_vote = c.flag("pre-vote", true);
    s.opts.check_quorum = c.flag("check-quorum", true);
    s.opts.max_msg_bytes = static_cast<uint64_t>(c.num("max-msg-bytes", 1 << 20));
    s.opts.max_inflight = static_cast<size_t>(c.num("max-inflight", 64));
    s.opts.election_tick = static_cast<int>(c.num("election", 10));
    s.opts.heartbeat_tick = static_cast<int>(c.num("heartbeat", 1));
    Result<std::unique_ptr<node>> r = node::create(s.opts);
    if (!r.ok()) return result_text(r.status());
    s.n = std::move(r).value();
    out += status_line(id) + " " + to_string(conf) + "\n";
  }
  return out;
}

std::string cluster::status_line(node_id id) {
  const node& n = live(id);
  return std::to_string(id.value) + ": " + to_string(n.role()) +
         " term=" + std::to_string(n.term().value) + " lead=" + std::to_string(n.leader().value) +
         " commit=" + std::to_string(n.log().commit().value) +
         " last=" + std::to_string(n.log().last_index().value) +
         (n.recovering() ? " recovering" : "");
}

std::string cluster::status(node_id id) {
  const node& n = live(id);
  std::string out = status_line(id) + " vote=" + std::to_string(n.vote().value) + "\n";
  out += indent(to_string(n.membership()));
  if (n.transfer_target() != no_node)
    out += indent("transferring to " + std::to_string(n.transfer_target().value));
  for (const auto& [pid, pr] : n.progresses()) {
    out += indent(std::to_string(pid.value) + ": match=" + std::to_string(pr.match.value) +
                  " next=" + std::to_string(pr.next.value) + " " + to_string(pr.st) +
                  (pr.learner ? " learner" : "") +
                  (pr.inflight.empty() ? "" : " inflight=" + std::to_string(pr.inflight.size())) +
                  (pr.probe_sent ? " probe-sent" : ""));
  }
  return out;
}

std::string cluster::show_log(node_id id) {
  const sim_node& s = get(id);
  std::string out =
      "persisted: " + to_string(s.persisted) + " applied=" + std::to_string(s.applied.value) + "\n";
  if (s.log->first_index() != log_index(0)) {
    out += "start=" + std::to_string(s.log->first_index().value) +
           " prev-term=" + std::to_string(s.log->term(s.log->first_index() - 1)->value) + "\n";
  }
  if (s.log->all().empty()) out += "(empty log)\n";
  for (const entry& e : s.log->all()) out += to_string(e) + "\n";
  return out;
}

std::string cluster::process_ready(node_id id) {
  sim_node& s = get(id);
  if (!s.n || !s.n->has_ready()) return "";
  ready rd = s.n->get_ready();
  std::string out = "> " + std::to_string(id.value) + " ready\n";
  if (rd.soft) {
    out += indent("soft: leader=" + std::to_string(rd.soft->leader.value) +
                  " role=" + to_string(rd.soft->role));
  }
  if (rd.hard) out += indent("hard: " + to_string(*rd.hard));
  if (rd.restart_log) {
    const log_start& ls = *rd.restart_log;
    out += indent("restart-log: start=" + std::to_string(ls.start.value) +
                  " prev-term=" + std::to_string(ls.prev_term.value) + " conf=" +
                  to_string(ls.conf) + "@" + std::to_string(ls.conf_index.value));
    s.log->reset(ls.start, ls.prev_term);
    // The membership as of the new start is no longer in the log: keep it
    // where a restart finds it.
    s.opts.conf = ls.conf;
    s.opts.conf_index = ls.conf_index;
    s.applied = ls.start - 1;  // nothing below the start is applied any more
  }
  if (rd.truncate_from) {
    out += indent("truncate-from: " + std::to_string(rd.truncate_from->value));
    KAPPA_ASSERT(s.log->truncate_from(*rd.truncate_from).ok());
  }
  for (const entry& e : rd.entries) out += indent("append: " + to_string(e));
  KAPPA_ASSERT(s.log->append(rd.entries).ok());
  if (rd.hard) s.persisted = *rd.hard;
  for (const message& m : rd.messages) {
    out += indent("send: " + to_string(m));
    inbox_[m.to].push_back(m);
  }
  for (const entry& e : rd.committed_entries) {
    out += indent("apply: " + to_string(e));
    KAPPA_ASSERT(e.base_index == s.applied + 1);  // applied in order, nothing skipped
    s.applied = e.last_index;
  }
  s.n->advance(rd);
  observe(id);
  return out;
}

std::string cluster::deliver_to(node_id id, std::optional<node_id> from) {
  auto it = inbox_.find(id);
  if (it == inbox_.end()) return "";
  std::vector<message> take, keep;
  for (message& m : it->second) ((!from || m.from == *from) ? take : keep).push_back(std::move(m));
  it->second = std::move(keep);
  if (take.empty()) return "";
  std::string out = "> " + std::to_string(id.value) + " receive\n";
  for (const message& m : take) {
    sim_node& s = get(id);
    if (cut(m) || !s.n) {
      out += indent("dropped: " + to_string(m));
      continue;
    }
    out += indent(to_string(m));
    Status st = s.n->step(m);
    if (!st.ok()) out += indent("error: " + st.message());
  }
  return out;
}

std::string cluster::deliver(const command_line& c) {
  std::string out;
  if (c.has("drop")) {
    for (node_id id : c.ids("drop")) {
      for (const message& m : inbox_[id]) out += "dropped: " + to_string(m) + "\n";
      inbox_[id].clear();
    }
    return out;
  }
  std::optional<node_id> from;
  if (c.has("from")) from = node_id(std::stoull(c.get("from")));
  for (auto& [id, s] : nodes_) {
    if (c.has("to") && id.value != std::stoull(c.get("to"))) continue;
    out += deliver_to(id, from);
  }
  return out;
}

std::string cluster::stabilize(std::vector<node_id> ids) {
  if (ids.empty()) {
    for (auto& [id, s] : nodes_) ids.push_back(id);
  }
  std::string out;
  for (int round = 0; round < 1000; ++round) {
    bool busy = false;
    for (node_id id : ids) {
      std::string r = process_ready(id);
      busy |= !r.empty();
      out += r;
    }
    for (node_id id : ids) {
      std::string r = deliver_to(id, std::nullopt);
      busy |= !r.empty();
      out += r;
    }
    if (!busy) return out;
  }
  return out + "stabilize: no quiet state after 1000 rounds\n";
}

node_id cluster::find_leader() const {
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

std::string cluster::change_config(const command_line& c) {
  node_id target = c.arg_id(0);
  node_id leader = c.has("leader") ? node_id(std::stoull(c.get("leader"))) : find_leader();
  config_change cc{.type = config_change::kind::remove, .node = target};
  if (c.name == "add-voter") cc.type = config_change::kind::add_voter;
  if (c.name == "add-learner") cc.type = config_change::kind::add_learner;
  if (c.name == "promote") cc.type = config_change::kind::promote;
  std::string out;
  if (!nodes_.count(target)) {
    // A joining node starts empty, with no membership: it learns it from the leader's log.
    sim_node& s = nodes_[target];
    s.opts = nodes_.begin()->second.opts;  // same timing and limits as the others
    s.opts.hard = hard_state{};
    s.opts.id = target;
    s.opts.seed = target.value;
    s.opts.log = s.log.get();
    s.opts.conf = config{};
    s.n = std::move(node::create(s.opts)).value();
    out += status_line(target) + " (new, empty)\n";
  }
  if (leader == no_node) return out + "error: no leader";
  return out + result_text(live(leader).propose_config_change(cc));
}

std::string cluster::restart(const command_line& c) {
  node_id id = c.arg_id(0);
  sim_node& s = get(id);
  options o = s.opts;
  o.no_vote_until = log_index(c.num("no-vote-until", no_index.value));
  o.hard = s.persisted;
  o.applied = std::min(s.applied, s.persisted.commit);
  Result<std::unique_ptr<node>> r = node::create(o);
  if (!r.ok()) return result_text(r.status());
  s.n = std::move(r).value();
  return status_line(id);
}

std::string cluster::damage(node_id id, log_index from) {
  sim_node& s = get(id);
  KAPPA_ASSERT(s.n == nullptr);  // damage is found at recovery, on a crashed node
  Status st = s.log->truncate_from(from);
  if (!st.ok()) return result_text(st);
  // The lost range may hold committed entries: what the node persisted
  // about them is void (recovery outside the protocol, so the monotonic
  // commit check restarts from here).
  log_index last = s.log->last_index();
  s.persisted.commit = std::min(s.persisted.commit, last);
  s.applied = std::min(s.applied, last);
  commit_seen_[id] = s.persisted.commit;
  if (s.opts.conf_index > last) return "error: the damage reaches the recorded membership";
  return "ok last=" + std::to_string(last.value) +
         " commit=" + std::to_string(s.persisted.commit.value);
}

}  // namespace kappa::raft::testing
