// Membership changes one server at a time (dissertation §4.1-§4.2) and
// leadership transfer (§3.10).
#include <algorithm>

#include "replication/raft/errc.h"
#include "replication/raft/raft.h"

namespace kappa::raft {
namespace {

void insert_sorted(std::vector<node_id>* ids, node_id id) {
  ids->insert(std::upper_bound(ids->begin(), ids->end(), id), id);
}

void erase_id(std::vector<node_id>* ids, node_id id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}

}  // namespace

void node::scan_config_entries() {
  // Config entries after conf_index are in effect even if uncommitted (§4.1).
  log_index lo = config_history_.back().index + 1;
  lo = std::max(lo, log_.first_index());
  while (lo <= log_.last_index()) {
    Result<std::vector<entry>> es = log_.entries(lo, opts_.max_msg_bytes);
    KAPPA_ASSERT(es.ok() && !es->empty());
    track_config_entries(*es);
    lo = es->back().last_index + 1;
  }
  set_config(config_history_.back().conf);
}

void node::track_config_entries(const std::vector<entry>& es) {
  // Dissertation §4.1: a server uses the latest config in its log, so when
  // a truncation removed config entries, the previous config is back.
  bool changed = false;
  while (config_history_.size() > 1 && config_history_.back().index > log_.commit() &&
         !log_.match_term(config_history_.back().index, config_history_.back().term)) {
    config_history_.pop_back();
    changed = true;
  }
  for (const entry& e : es) {
    if (e.type != entry_type::config || e.base_index <= config_history_.back().index) continue;
    config c;
    KAPPA_ASSERT(codec().read_config(e.payload, &c));  // the leader wrote it: bad bytes are a bug
    config_history_.push_back({e.base_index, e.term, std::move(c)});
    changed = true;
  }
  // Only the newest committed record at or below the log start can ever be
  // needed again (by install_start, for a follower restarting its log there).
  log_index keep_from = std::min(log_.commit(), log_.first_index() - 1);
  while (config_history_.size() > 1 && config_history_[1].index <= keep_from) {
    config_history_.erase(config_history_.begin());
  }
  if (changed) set_config(config_history_.back().conf);
}

const node::config_record& node::config_at(log_index i) const {
  // The oldest record may lie above i when the node started from a
  // membership recorded above its log start; it is committed, so handing it
  // out early is harmless (a node must hold it to win an election).
  const config_record* found = &config_history_.front();
  for (const config_record& r : config_history_) {
    if (r.index <= i) found = &r;
  }
  return *found;
}

void node::set_config(const config& c) {
  config_ = c;
  if (role_ != role::leader) {
    // A node removed from the voters cannot campaign; a pending election of
    // one that became a learner is void.
    if (role_ != role::follower && !promotable()) become_follower(term_, no_node);
    return;
  }
  for (auto it = prs_.begin(); it != prs_.end();) {
    it = c.contains(it->first) ? std::next(it) : prs_.erase(it);
  }
  auto add = [&](node_id id, bool learner) {
    auto [it, inserted] = prs_.try_emplace(id, progress{.next = log_.last_index() + 1});
    it->second.learner = learner;
    if (inserted && id == opts_.id) it->second.match = log_.stable_last();
    if (inserted) it->second.recent_active = true;  // give a new member one round to answer
  };
  for (node_id id : c.voters) add(id, false);
  for (node_id id : c.learners) add(id, true);
  if (lead_transferee_ != no_node && !c.is_voter(lead_transferee_)) abort_transfer();
  // A smaller majority may already hold newer entries.
  if (maybe_commit()) after_commit();
}

Status node::propose_config_change(config_change cc) {
  KAPPA_ASSERT(!ready_outstanding_);
  if (role_ != role::leader) {
    return error(errc::not_leader, "node " + std::to_string(opts_.id.value) + " is not the leader");
  }
  if (lead_transferee_ != no_node)
    return error(errc::transfer_in_progress, "leadership transfer in progress");
  if (config_history_.back().index > log_.commit()) {
    return error(errc::config_change_pending,
                 "config entry at " + std::to_string(config_history_.back().index.value) +
                     " is not committed yet");
  }
  // Dissertation §4.1 (and Ongaro's 2015 raft-dev correction): a new leader
  // must commit an entry of its term before changing the config, or two
  // single-server changes from different terms could form disjoint majorities.
  if (log_.term_or_zero(log_.commit()) != term_) {
    return error(errc::leader_not_ready, "the leader has not committed an entry of its term yet");
  }
  config next = config_;
  std::string who = "node " + std::to_string(cc.node.value);
  switch (cc.type) {
    case config_change::kind::add_voter:
    case config_change::kind::add_learner:
      if (config_.contains(cc.node))
        return error(errc::invalid_config_change, who + " is already a member");
      insert_sorted(cc.type == config_change::kind::add_voter ? &next.voters : &next.learners,
                    cc.node);
      break;
    case config_change::kind::promote:
      if (!config_.is_learner(cc.node))
        return error(errc::invalid_config_change, who + " is not a learner");
      erase_id(&next.learners, cc.node);
      insert_sorted(&next.voters, cc.node);
      break;
    case config_change::kind::remove:
      if (!config_.contains(cc.node))
        return error(errc::invalid_config_change, who + " is not a member");
      if (config_.is_voter(cc.node) && config_.voters.size() == 1) {
        return error(errc::invalid_config_change, "cannot remove the last voter");
      }
      erase_id(&next.voters, cc.node);
      erase_id(&next.learners, cc.node);
      break;
  }
  if (cc.node == no_node) return error(errc::invalid_config_change, "node id 0 is reserved");
  log_index base = log_.last_index() + 1;
  // In effect as soon as it is appended (§4.1); the leader now replicates to
  // the new member and counts majorities of the new voters.
  append_entry({.term = term_,
                .base_index = base,
                .last_index = base,
                .type = entry_type::config,
                .payload = codec().config_entry(next, term_, base)});
  if (role_ == role::leader) bcast_append();
  return {};
}

Status node::transfer_leadership(node_id to) {
  KAPPA_ASSERT(!ready_outstanding_);
  if (role_ != role::leader) {
    return error(errc::not_leader, "node " + std::to_string(opts_.id.value) + " is not the leader");
  }
  if (to == opts_.id) return {};  // already there
  if (!config_.is_voter(to)) {
    return error(errc::invalid_argument, "node " + std::to_string(to.value) + " is not a voter");
  }
  if (lead_transferee_ == to) return {};
  // Dissertation §3.10: stop taking proposals, bring the target up to date,
  // then let it time out at once. It must finish within an election timeout.
  lead_transferee_ = to;
  election_elapsed_ = 0;
  progress& pr = prs_.at(to);
  if (pr.match == log_.last_index()) {
    send({.type = message_type::timeout_now, .to = to});
  } else {
    send_append(to);
  }
  return {};
}

}  // namespace kappa::raft
