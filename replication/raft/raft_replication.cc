// Log replication (Raft §5.3), commitment (§5.4.2), fast backtracking and
// flow control.
#include <algorithm>

#include "replication/raft/errc.h"
#include "replication/raft/raft.h"

namespace kappa::raft {

void node::append_entry(entry e) {
  std::vector<entry> es{std::move(e)};
  log_.append(es);
  track_config_entries(es);
  // The leader's own progress moves when the entry is persisted (advance()).
}

void node::send_append(node_id to, bool send_if_empty) {
  auto it = prs_.find(to);
  if (it == prs_.end() || to == opts_.id) return;
  progress& pr = it->second;
  if (pr.paused(opts_.max_inflight)) return;
  log_index prev = pr.next - 1;
  Result<term_id> prev_term = log_.term(prev);
  Result<std::vector<entry>> es = log_.entries(pr.next, opts_.max_msg_bytes);
  if (pr.next < log_.first_index() ||
      (!prev_term.ok() && prev_term.status().code() == errc::compacted) ||
      (!es.ok() && es.status().code() == errc::compacted)) {
    // The follower needs offsets below our log start (retention or delete
    // records moved it, maybe just now): it restarts its log there.
    send_install_start(to, pr);
    return;
  }
  if (!prev_term.ok() || !es.ok()) return;
  if (es->empty() && !send_if_empty) return;
  message m{.type = message_type::append,
            .to = to,
            .log_term = *prev_term,
            .index = prev,
            .entries = std::move(es).value(),
            .commit = log_.commit()};
  if (!m.entries.empty()) {
    pr.sent(m.entries.back().last_index);
  } else if (pr.st == progress::state::probe) {
    pr.sent(prev);
  }
  send(std::move(m));
}

void node::send_install_start(node_id to, progress& pr) {
  log_index index = log_.first_index() - 1;
  // The log start only moves over applied, so committed, offsets: the
  // follower will take everything up to `index` as committed.
  KAPPA_ASSERT(index <= log_.commit());
  Result<term_id> t = log_.term(index);
  KAPPA_ASSERT(t.ok());  // the term before the log start is always kept
  const config_record& r = config_at(index);
  // One at a time, like a probe: the answer (or a heartbeat answer, if it
  // was lost) moves the progress on; etcd does the same with snapshots.
  if (pr.st == progress::state::replicate) pr.become_probe();
  pr.probe_sent = true;
  send({.type = message_type::install_start,
        .to = to,
        .log_term = *t,
        .index = index,
        .entries = {entry{.term = r.term,
                          .base_index = r.index,
                          .last_index = r.index,
                          .type = entry_type::config,
                          .payload = codec().config_entry(r.conf, r.term, r.index)}},
        .commit = log_.commit()});
}

void node::bcast_append() {
  for (auto& [id, pr] : prs_) {
    if (id != opts_.id) send_append(id);
  }
}

void node::bcast_heartbeat() {
  for (auto& [id, pr] : prs_) {
    if (id == opts_.id) continue;
    // Never tell a follower to commit past what it is known to hold: its
    // log beyond match may still be another leader's.
    send({.type = message_type::heartbeat, .to = id, .commit = std::min(pr.match, log_.commit())});
  }
}

log_index node::quorum_match() const {
  std::vector<log_index> matches;
  for (node_id id : config_.voters) {
    auto it = prs_.find(id);
    matches.push_back(it == prs_.end() ? no_index : it->second.match);
  }
  if (matches.empty()) return no_index;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[matches.size() / 2];  // held by a majority
}

bool node::maybe_commit() {
  // Raft §5.3 / §5.4.2: the highest offset on a majority, only if its entry
  // is of our term. Learners do not count.
  return log_.maybe_commit(quorum_match(), term_);
}

void node::after_commit() {
  bcast_append();
  // Dissertation §4.2.2: a leader that is not in the committed config steps
  // down; until then it managed the cluster without counting itself.
  if (!config_.is_voter(opts_.id) && log_.commit() >= config_history_.back().index) {
    become_follower(term_, no_node);
  }
}

void node::step_leader(const message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;  // not a member (any more)
  progress& pr = it->second;
  switch (m.type) {
    case message_type::append_resp:
      pr.recent_active = true;
      handle_append_resp(m, pr);
      break;
    case message_type::heartbeat_resp:
      pr.recent_active = true;
      pr.probe_sent = false;
      // A full window whose appends were all lost would stall forever.
      if (pr.st == progress::state::replicate && pr.paused(opts_.max_inflight)) {
        pr.inflight.pop_front();
      }
      // A recovering follower may lack what its match says: its reject to
      // this append tells us where to restart (handle_append_resp).
      if (pr.match < log_.last_index() || m.lost_entries) send_append(m.from);
      break;
    default:
      break;  // votes of an election already won, stale transfers
  }
}

void node::handle_append_resp(const message& m, progress& pr) {
  if (m.reject && m.lost_entries && m.reject_hint < pr.match) {
    // Protocol-aware recovery: the follower lost entries it had acknowledged
    // (a damaged range dropped at restart). Our match for it is stale; probe
    // it again from where its log still matches. Commit never moves back, and
    // the lost entries count for no new commit until it holds them again.
    pr.match = m.reject_hint;
    pr.become_probe();
    pr.next = pr.match + 1;
    send_append(m.from);
    return;
  }
  if (m.reject) {
    // Fast backtracking: jump over every entry the follower cannot have
    // instead of one entry per round trip (Raft §5.3, last paragraph).
    log_index hint = m.reject_hint;
    if (m.log_term > term_id(0)) hint = log_.find_conflict_by_term(m.reject_hint, m.log_term);
    if (pr.maybe_decrease_to(m.index, hint)) {
      // next must be the base of one of our entries, so prev is an entry end.
      if (pr.next <= log_.last_index() && pr.next >= log_.first_index()) {
        Result<entry> e = log_.entry_at(pr.next);
        if (e.ok()) pr.next = std::max(e->base_index, pr.match + 1);
      }
      if (pr.st == progress::state::replicate) pr.become_probe();
      send_append(m.from);
    }
    return;
  }
  bool was_paused = pr.paused(opts_.max_inflight);
  if (pr.maybe_update(m.index)) {
    if (pr.st == progress::state::probe) pr.become_replicate();
    if (maybe_commit()) {
      after_commit();
      if (role_ != role::leader) return;  // it removed itself; prs_ is gone
    } else if (was_paused) {
      // It missed any broadcast while paused: tell it the commit point.
      send_append(m.from);
    }
  }
  // Fill the window: a probe turned into replicate, or slots were freed.
  while (pr.next <= log_.last_index() && !pr.paused(opts_.max_inflight)) {
    log_index before = pr.next;
    send_append(m.from, false);
    if (pr.next == before) break;
  }
  // Dissertation §3.10: once the target has everything, tell it to go.
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) {
    send({.type = message_type::timeout_now, .to = m.from});
  }
}

void node::step_follower(const message& m) {
  switch (m.type) {
    case message_type::append:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case message_type::heartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case message_type::install_start:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_install_start(m);
      break;
    case message_type::timeout_now:
      // The leader is handing over: campaign now, without pre-vote and past
      // the other voters' leader lease (§3.10).
      if (promotable() && !recovering()) start_campaign(campaign_kind::transfer);
      break;
    default:
      break;
  }
}

void node::handle_append(const message& m) {
  if (m.index < log_.commit()) {
    // Everything up to our commit already matches any leader's log (§5.4).
    send({.type = message_type::append_resp, .to = m.from, .index = log_.commit()});
    return;
  }
  std::optional<log_index> last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries);
  if (last_new) {
    track_config_entries(m.entries);
    send({.type = message_type::append_resp, .to = m.from, .index = *last_new});
    return;
  }
  // Raft §5.3: reject, with a hint of where our logs may match: the last
  // offset at or below the leader's prev whose term is at most the leader's
  // term there.
  log_index hint = log_.find_conflict_by_term(std::min(m.index, log_.last_index()), m.log_term);
  send({.type = message_type::append_resp,
        .to = m.from,
        .log_term = log_.term_or_zero(hint),
        .index = m.index,
        .reject = true,
        .reject_hint = hint,
        .lost_entries = recovering()});
}

void node::handle_install_start(const message& m) {
  if (m.index <= log_.commit()) {
    // We already hold (or held, and committed) everything up to there.
    send({.type = message_type::append_resp, .to = m.from, .index = log_.commit()});
    return;
  }
  if (log_.match_term(m.index, m.log_term)) {
    // Our log already matches the leader's at its start (Log Matching):
    // nothing to drop, and the leader committed up to there (etcd does the
    // same when a snapshot matches the log).
    log_.commit_to(m.index);
    send({.type = message_type::append_resp, .to = m.from, .index = m.index});
    return;
  }
  // step() checked there is exactly one config entry that the codec reads.
  const entry& ce = m.entries.front();
  log_start ls{.start = m.index + 1, .prev_term = m.log_term};
  KAPPA_ASSERT(codec().read_config(ce.payload, &ls.conf));
  // The leader may know only a (committed) config newer than m.index; we take
  // it as in effect from our start: we hold its entry before we can win.
  ls.conf_index = std::min(ce.base_index, m.index);
  log_.restart(ls);
  config_history_.clear();
  config_history_.push_back({ls.conf_index, ce.term, ls.conf});
  set_config(ls.conf);
  send({.type = message_type::append_resp, .to = m.from, .index = m.index});
}

void node::handle_heartbeat(const message& m) {
  log_.commit_to(std::min(m.commit, log_.last_index()));
  send({.type = message_type::heartbeat_resp, .to = m.from, .lost_entries = recovering()});
}

}  // namespace kappa::raft
