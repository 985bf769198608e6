// Roles, elections (Raft §5.2), pre-vote (dissertation §9.6), check-quorum
// (§6.2) and the timers that drive them.
#include "replication/raft/raft.h"

namespace kappa::raft {

void node::reset_randomized_election_timeout() {
  // Raft §5.2: randomized timeouts in [T, 2T) make split votes rare. The
  // PRNG is seeded by the caller so a simulation replays exactly; the raw
  // mt19937_64 output is fully specified by the standard (distributions are not).
  randomized_election_timeout_ =
      opts_.election_tick + static_cast<int>(rng_() % static_cast<uint64_t>(opts_.election_tick));
}

void node::reset(term_id t) {
  if (t != term_) {
    KAPPA_ASSERT(t > term_);  // terms only grow
    term_ = t;
    vote_ = no_node;
  }
  lead_ = no_node;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_transfer();
  votes_.clear();
  prs_.clear();
}

void node::become_follower(term_id t, node_id lead) {
  reset(t);
  lead_ = lead;
  role_ = role::follower;
}

void node::become_pre_candidate() {
  KAPPA_ASSERT(role_ != role::leader);
  // §9.6: no term change and no vote yet: a node that cannot win does not
  // disturb the others.
  votes_.clear();
  lead_ = no_node;
  role_ = role::pre_candidate;
}

void node::become_candidate() {
  KAPPA_ASSERT(role_ != role::leader);
  reset(next_term(term_));
  vote_ = opts_.id;  // Raft §5.2: a candidate votes for itself
  role_ = role::candidate;
}

void node::become_leader() {
  KAPPA_ASSERT(role_ == role::candidate);
  reset(term_);
  lead_ = opts_.id;
  role_ = role::leader;
  for (node_id id : config_.voters) prs_[id] = progress{.next = log_.last_index() + 1};
  for (node_id id : config_.learners) {
    prs_[id] = progress{.next = log_.last_index() + 1, .learner = true};
  }
  auto self = prs_.find(opts_.id);
  if (self != prs_.end()) {
    self->second.match = log_.stable_last();
    self->second.become_replicate();
    self->second.recent_active = true;
  }
  // Raft §8 / dissertation §6.4: an entry of the new term, so that earlier
  // entries can be committed (§5.4.2) and the leader learns the commit point.
  // Kappa writes it as a control batch.
  log_index base = log_.last_index() + 1;
  append_entry({.term = term_,
                .base_index = base,
                .last_index = base,
                .type = entry_type::noop,
                .payload = codec().noop(term_, base)});
  bcast_append();
}

void node::campaign() {
  KAPPA_ASSERT(!ready_outstanding_);
  if (role_ == role::leader || !promotable() || recovering()) return;
  start_campaign(opts_.pre_vote ? campaign_kind::pre_election : campaign_kind::election);
}

void node::start_campaign(campaign_kind kind) {
  term_id vote_term;
  message_type type;
  if (kind == campaign_kind::pre_election) {
    become_pre_candidate();
    vote_term = next_term(term_);
    type = message_type::pre_vote;
  } else {
    become_candidate();
    vote_term = term_;
    type = message_type::vote;
  }
  if (poll(opts_.id, true) == vote_result::won) {
    // A single voter wins at once.
    if (kind == campaign_kind::pre_election) {
      start_campaign(campaign_kind::election);
    } else {
      become_leader();
    }
    return;
  }
  for (node_id id : config_.voters) {
    if (id == opts_.id) continue;
    send({.type = type,
          .to = id,
          .term = vote_term,
          .log_term = log_.last_term(),
          .index = log_.last_index(),
          .transfer = kind == campaign_kind::transfer});
  }
}

node::vote_result node::poll(node_id from, bool granted) {
  votes_.emplace(from, granted);  // the first answer of each voter counts
  size_t yes = 0, no = 0;
  for (node_id id : config_.voters) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? yes : no)++;
  }
  size_t quorum = config_.voters.size() / 2 + 1;
  if (yes >= quorum) return vote_result::won;
  if (no > config_.voters.size() - quorum) return vote_result::lost;
  return vote_result::pending;
}

void node::handle_vote_request(const message& m) {
  bool pre = m.type == message_type::pre_vote;
  message_type resp = pre ? message_type::pre_vote_resp : message_type::vote_resp;
  // Raft §5.2: one vote per term, first come first served; a pre-vote for a
  // future term promises nothing, so it may be granted freely.
  bool can_vote =
      vote_ == m.from || (vote_ == no_node && lead_ == no_node) || (pre && m.term > term_);
  // Protocol-aware recovery: our log may lack committed entries we once
  // acknowledged, so §5.4.1's check against it would be unsound.
  if (recovering()) can_vote = false;
  // Our own membership is not consulted: it may be stale. A node added as a
  // voter whose log does not yet hold that config entry must still vote, or
  // a group whose quorum needs it can never elect a leader (found by the
  // seeded simulation, tests/sim seed 56). The candidate counts only the
  // voters of its config (poll), so a learner's answer never counts (etcd
  // does the same).
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {  // Raft §5.4.1
    send({.type = resp, .to = m.from, .term = m.term});
    if (!pre) {
      KAPPA_ASSERT(vote_ == no_node || vote_ == m.from);
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    send({.type = resp, .to = m.from, .term = term_, .reject = true});
  }
}

void node::step_candidate(const message& m) {
  message_type my_resp =
      role_ == role::pre_candidate ? message_type::pre_vote_resp : message_type::vote_resp;
  switch (m.type) {
    case message_type::append:
      become_follower(m.term, m.from);  // Raft §5.2: a leader of our term exists
      handle_append(m);
      return;
    case message_type::heartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return;
    case message_type::install_start:
      become_follower(m.term, m.from);
      handle_install_start(m);
      return;
    default:
      break;
  }
  if (m.type != my_resp) return;
  switch (poll(m.from, !m.reject)) {
    case vote_result::won:
      if (role_ == role::pre_candidate) {
        start_campaign(campaign_kind::election);
      } else {
        become_leader();
      }
      break;
    case vote_result::lost:
      become_follower(term_, no_node);
      break;
    case vote_result::pending:
      break;
  }
}

void node::tick() {
  KAPPA_ASSERT(!ready_outstanding_);
  if (role_ == role::leader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void node::tick_election() {
  election_elapsed_++;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    // A recovering node waits for a leader to refill its log (options.no_vote_until).
    if (recovering()) return;
    start_campaign(opts_.pre_vote ? campaign_kind::pre_election : campaign_kind::election);
  }
}

void node::tick_heartbeat() {
  heartbeat_elapsed_++;
  election_elapsed_++;
  if (election_elapsed_ >= opts_.election_tick) {
    election_elapsed_ = 0;
    if (opts_.check_quorum && !quorum_active()) {
      // Dissertation §6.2: a leader cut off from a majority steps down, so
      // clients go looking for the real one.
      become_follower(term_, no_node);
      return;
    }
    // A transfer that did not finish within an election timeout is abandoned
    // so that the leader accepts proposals again (§3.10).
    if (lead_transferee_ != no_node) abort_transfer();
  }
  if (heartbeat_elapsed_ >= opts_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    bcast_heartbeat();
  }
}

bool node::quorum_active() {
  size_t active = 0;
  for (node_id id : config_.voters) {
    auto it = prs_.find(id);
    if (it == prs_.end()) continue;
    if (id == opts_.id || it->second.recent_active) active++;
  }
  for (auto& [id, pr] : prs_) pr.recent_active = false;  // the next round starts afresh
  return active >= config_.voters.size() / 2 + 1;
}

}  // namespace kappa::raft
