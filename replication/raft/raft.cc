// The node: construction, the term rules common to every message, and the
// ready/advance protocol. Elections, replication and membership live in
// raft_election.cc, raft_replication.cc and raft_membership.cc.
#include "replication/raft/raft.h"

#include <algorithm>

#include "replication/raft/errc.h"

namespace kappa::raft {

Result<std::unique_ptr<node>> node::create(const options& o) {
  if (o.id == no_node) return error(errc::invalid_argument, "node id 0 is reserved");
  if (o.log == nullptr) return error(errc::invalid_argument, "no log_view");
  if (o.election_tick <= o.heartbeat_tick || o.heartbeat_tick <= 0) {
    return error(errc::invalid_argument, "election_tick must exceed heartbeat_tick > 0");
  }
  if (o.max_inflight == 0) return error(errc::invalid_argument, "max_inflight must be positive");
  if (o.hard.commit > o.log->last_index()) {
    return error(errc::invalid_argument, "commit " + std::to_string(o.hard.commit.value) +
                                             " beyond the last offset of the log");
  }
  // Offsets below the log start were committed (see raft.h, LOG START).
  log_index commit = std::max(o.hard.commit, o.log->first_index() - 1);
  if (o.applied > commit || o.conf_index > commit) {
    return error(errc::invalid_argument, "applied and conf_index must not exceed commit");
  }
  for (node_id v : o.conf.voters) {
    if (o.conf.is_learner(v))
      return error(errc::invalid_argument, "a node is both voter and learner");
  }
  if (!std::is_sorted(o.conf.voters.begin(), o.conf.voters.end()) ||
      !std::is_sorted(o.conf.learners.begin(), o.conf.learners.end())) {
    return error(errc::invalid_argument, "config ids must be sorted");
  }
  return std::unique_ptr<node>(new node(o));
}

node::node(const options& o)
    : opts_(o),
      codec_(o.codec ? o.codec : &default_entry_codec()),
      log_(*o.log, o.hard.commit, o.applied),
      term_(o.hard.term),
      vote_(o.hard.vote),
      no_vote_until_(o.no_vote_until),
      rng_(o.seed) {
  config_history_.push_back({o.conf_index, term_id(0), o.conf});
  scan_config_entries();
  prev_hard_ = current_hard_state();
  prev_soft_ = current_soft_state();
  become_follower(term_, no_node);
}

Status node::step(const message& m) {
  KAPPA_ASSERT(!ready_outstanding_);
  if (m.to != opts_.id) return error(errc::invalid_argument, "message for another node");
  if (m.type == message_type::install_start) {
    config c;
    if (m.entries.size() != 1 || m.entries[0].type != entry_type::config ||
        !codec().read_config(m.entries[0].payload, &c)) {
      return error(errc::invalid_argument, "install_start without its config entry");
    }
  }
  bool from_leader = m.type == message_type::append || m.type == message_type::heartbeat ||
                     m.type == message_type::install_start;
  bool is_vote = m.type == message_type::vote || m.type == message_type::pre_vote;
  if (m.term > term_) {
    if (is_vote) {
      // Dissertation §4.2.3 / §6.2: a node that heard from a live leader
      // within the minimum election timeout ignores vote requests, so a
      // removed or partitioned server cannot depose a healthy leader. A
      // transfer is the leader's own wish and bypasses this.
      bool in_lease =
          opts_.check_quorum && lead_ != no_node && election_elapsed_ < opts_.election_tick;
      if (in_lease && !m.transfer) return {};
    }
    if (m.type == message_type::pre_vote) {
      // A pre-vote does not change our term (§9.6): that is its point.
    } else if (m.type == message_type::pre_vote_resp && !m.reject) {
      // A granted pre-vote carries the future term; we take it when we win.
    } else if (from_leader) {
      become_follower(m.term, m.from);  // Raft §5.1: a newer term wins
    } else {
      become_follower(m.term, no_node);
    }
  } else if (m.term < term_) {
    if ((opts_.check_quorum || opts_.pre_vote) && from_leader) {
      // A stale leader learns our term and steps down. Without this, a node
      // whose term grew while partitioned could never rejoin: pre-vote keeps
      // the others from adopting its term.
      send({.type = message_type::append_resp, .to = m.from});
    } else if (m.type == message_type::pre_vote) {
      send({.type = message_type::pre_vote_resp, .to = m.from, .reject = true});
    }
    return {};  // Raft §5.1: stale messages are ignored
  }

  if (is_vote) {
    handle_vote_request(m);
    return {};
  }
  switch (role_) {
    case role::leader:
      step_leader(m);
      break;
    case role::candidate:
    case role::pre_candidate:
      step_candidate(m);
      break;
    case role::follower:
      step_follower(m);
      break;
  }
  return {};
}

void node::send(message m) {
  m.from = opts_.id;
  // Responses to (pre-)votes carry their own term; everything else ours.
  if (m.type != message_type::pre_vote_resp && m.type != message_type::vote_resp &&
      m.type != message_type::pre_vote) {
    m.term = term_;
  } else if (m.term == term_id(0)) {
    m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

Result<log_index> node::propose(std::string payload, int64_t offset_count) {
  KAPPA_ASSERT(!ready_outstanding_);
  if (offset_count <= 0)
    return error(errc::invalid_argument, "an entry occupies at least one offset");
  if (role_ != role::leader) {
    return error(errc::not_leader,
                 "node " + std::to_string(opts_.id.value) + " is not the leader; leader is " +
                     (lead_ == no_node ? std::string("unknown") : std::to_string(lead_.value)));
  }
  if (lead_transferee_ != no_node) {
    // Dissertation §3.10: the old leader stops accepting client requests so
    // the target can catch up and take over.
    return error(errc::transfer_in_progress,
                 "leadership is moving to node " + std::to_string(lead_transferee_.value));
  }
  log_index base = log_.last_index() + 1;
  append_entry({.term = term_,
                .base_index = base,
                .last_index = base + (offset_count - 1),
                .type = entry_type::normal,
                .payload = std::move(payload)});
  bcast_append();
  return base;
}

bool node::has_ready() const {
  KAPPA_ASSERT(!ready_outstanding_);
  return current_soft_state() != prev_soft_ || current_hard_state() != prev_hard_ ||
         !log_.unstable_entries().empty() || log_.pending_truncation() ||
         log_.pending_restart() || !msgs_.empty() ||
         log_.has_next_committed_entries();
}

ready node::get_ready() {
  KAPPA_ASSERT(!ready_outstanding_);
  ready rd;
  if (current_soft_state() != prev_soft_) {
    rd.soft = current_soft_state();
    prev_soft_ = *rd.soft;
  }
  if (current_hard_state() != prev_hard_) rd.hard = current_hard_state();
  rd.truncate_from = log_.pending_truncation();
  // The commit may already cover the entries that replace the truncated
  // ones, but never what was committed before: compare with the persisted one.
  if (rd.truncate_from) KAPPA_ASSERT(*rd.truncate_from > prev_hard_.commit);
  rd.restart_log = log_.pending_restart();
  // A restart drops committed entries only below its start, which the
  // leader committed: the log never ends below the persisted commit.
  if (rd.restart_log) KAPPA_ASSERT(rd.restart_log->start - 1 > prev_hard_.commit);
  rd.entries = log_.unstable_entries();
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.committed_entries = log_.next_committed_entries(opts_.max_committed_bytes);
  ready_outstanding_ = true;
  return rd;
}

void node::advance(const ready& rd) {
  KAPPA_ASSERT(ready_outstanding_);
  ready_outstanding_ = false;
  if (rd.hard) {
    // One vote per term: a persisted vote is never replaced within its term.
    KAPPA_ASSERT(!(rd.hard->term == prev_hard_.term && prev_hard_.vote != no_node &&
                   rd.hard->vote != prev_hard_.vote));
    KAPPA_ASSERT(rd.hard->commit >= prev_hard_.commit);
    prev_hard_ = *rd.hard;
  }
  std::optional<log_index> last;
  if (!rd.entries.empty()) last = rd.entries.back().last_index;
  log_.stable_to(rd.restart_log, rd.truncate_from, last);
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().last_index);
  if (!recovering()) no_vote_until_ = no_index;
  if (role_ == role::leader) {
    // The leader counts itself only for what it has persisted.
    auto self = prs_.find(opts_.id);
    if (self != prs_.end()) self->second.maybe_update(log_.stable_last());
    if (maybe_commit()) after_commit();
  }
}

}  // namespace kappa::raft
