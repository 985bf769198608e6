// kappa::raft::node: one replica of one Raft group, as a pure state machine
// in the style of etcd's raft. No threads, clocks, sockets or files: time is
// tick(), the network is step() and get_ready().messages, the disk is the
// log_view it reads and get_ready() for what to write.
//
// THE READY / ADVANCE PROTOCOL. After any call (tick, step, propose, ...),
// when has_ready(), the caller takes rd = get_ready() and, in this order:
//   1. persists: first, if rd.restart_log is set, drops every stable entry
//      and makes the log start empty at rd.restart_log->start (term of
//      start - 1: prev_term) and records rd.restart_log->conf (in effect at
//      conf_index) as the committed membership, since the log no longer
//      holds that config entry; then drops stable entries at or after
//      rd.truncate_from (if set), then appends rd.entries, then writes
//      rd.hard (if set); all durably (fsync) before step 2. The log_view
//      must show the result.
//   2. sends rd.messages. They may promise what step 1 wrote (a vote, an
//      append acknowledgement), so never before it.
//   3. applies rd.committed_entries (always already persisted locally). For
//      Kappa the state machine is the log itself: this moves the high
//      watermark to the last committed offset + 1.
//   4. calls advance(rd). No other call may come between get_ready() and
//      advance(rd) (asserted).
// rd.soft (leader, role) is informational and needs no persistence.
//
// INVARIANTS (asserted): commit never goes backwards; nothing at or below
// commit is ever truncated; a log restart starts above the persisted commit
// (restart_log->start - 1 > commit: what it drops at or below commit is
// covered by the new start, which the leader had committed); at most one
// vote per term; a leader only counts entries of its own term for commit
// (§5.4.2).
//
// LOG START. The caller may move a log's start up (retention, delete
// records) at any time outside get_ready/advance, but only over offsets it
// has applied (so committed); the core reads first_index() afresh each time.
// A follower that needs offsets below the leader's start gets install_start
// and restarts its log empty there (rd.restart_log). On create, offsets below
// the log start count as committed and applied.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "proto/format/result.h"
#include "replication/raft/entry_codec.h"
#include "replication/raft/log_view.h"
#include "replication/raft/progress.h"
#include "replication/raft/raft_log.h"
#include "replication/raft/types.h"

namespace kappa::raft {

struct options {
  node_id id;
  // Read-only view of stable storage. Must outlive the node; only the caller
  // writes to it, as told by get_ready().
  const log_view* log = nullptr;
  // As persisted (a fresh node: term 0, no vote, commit -1).
  hard_state hard;
  // The membership as of offset conf_index (<= hard.commit); the node scans
  // the log after conf_index for later config entries. A fresh group passes
  // its initial membership with conf_index = -1. A node that is joining a
  // group passes an empty config: it learns its membership from the leader.
  config conf;
  log_index conf_index = no_index;
  // The last offset already applied (<= hard.commit, an entry end);
  // committed entries after it are handed out again.
  log_index applied = no_index;

  // A follower that hears no leader for a random [election_tick,
  // 2 * election_tick) ticks campaigns (Raft §5.2); a leader sends
  // heartbeats every heartbeat_tick ticks.
  int election_tick = 10;
  int heartbeat_tick = 1;
  uint64_t seed = 0;                 // seeds the election timeout PRNG
  bool pre_vote = true;              // dissertation §9.6
  bool check_quorum = true;          // dissertation §6.2: leaders step down without a majority
  uint64_t max_msg_bytes = 1 << 20;  // payload bytes per append (at least one entry)
  size_t max_inflight = 64;          // appends in flight per follower, in replicate state
  uint64_t max_committed_bytes = 64 << 20;  // committed entry payload bytes per ready
  // Makes the payloads of the core's own entries (a new leader's no-op,
  // config changes) and reads configs back. Null: default_entry_codec().
  // Must outlive the node.
  const entry_codec* codec = nullptr;
  // Protocol-aware recovery: a node whose log lost a damaged range at
  // recovery may lack committed entries it once acknowledged, so while
  // log().last_index() < no_vote_until it grants no vote or pre-vote, never
  // campaigns (election timeout, campaign() and timeout_now are ignored) and
  // so cannot be a transfer target. It still takes appends and acknowledges
  // them. Set it to the last offset the log had before the damage.
  log_index no_vote_until = no_index;
};

struct ready {
  std::optional<soft_state> soft;  // changed leader or role
  std::optional<hard_state> hard;  // persist if set
  // A follower must drop the stable entries at and after this offset (an
  // entry boundary, always above commit) before appending `entries`.
  std::optional<log_index> truncate_from;
  // A follower behind the leader's log start: apply FIRST (see step 1). Set
  // only when start - 1 > the persisted commit; rd.hard then carries
  // commit = start - 1. Everything below start counts as committed and
  // applied (the high watermark becomes start; those offsets never appear
  // in committed_entries). Write the membership with the restart, in one
  // atomic step if possible: a crash between the two leaves a log whose
  // recorded membership predates its start (a lower commit alone is
  // harmless: node::create raises it to start - 1).
  std::optional<log_start> restart_log;
  std::vector<entry> entries;            // append to stable storage
  std::vector<message> messages;         // send after persisting
  std::vector<entry> committed_entries;  // apply (already persisted)
};

class node {
 public:
  // Checks the options (REQUIRES-style mistakes come back as errors).
  static Result<std::unique_ptr<node>> create(const options& opts);

  // Advances logical time by one tick.
  void tick();
  // Handles a message from a peer. Messages from older terms are answered or
  // ignored; an error only for a malformed message.
  Status step(const message& m);
  // Leader only: appends one entry of offset_count offsets carrying payload
  // and returns its base offset. errc::not_leader (with the leader's id in
  // the message and in leader()) elsewhere; errc::transfer_in_progress
  // during a leadership transfer.
  Result<log_index> propose(std::string payload, int64_t offset_count);
  // Leader only: one membership change, appended as a config entry and in
  // effect as soon as it is appended (dissertation §4.1). Refused while an
  // earlier change is uncommitted or before the leader has committed an
  // entry of its term. A leader that removes itself steps down once the
  // change is committed.
  Status propose_config_change(config_change cc);
  // Leader only: brings `to` up to date, then sends it timeout_now
  // (dissertation §3.10). Aborted after an election timeout.
  Status transfer_leadership(node_id to);
  // Starts an election now (as if the election timeout had fired).
  void campaign();

  bool has_ready() const;
  ready get_ready();
  void advance(const ready& rd);

  node_id id() const { return opts_.id; }
  term_id term() const { return term_; }
  node_id vote() const { return vote_; }
  node_id leader() const { return lead_; }
  raft::role role() const { return role_; }
  const config& membership() const { return config_; }
  const raft_log& log() const { return log_; }
  // Leader only: what it knows about each member (self included while a member).
  const progress_map& progresses() const { return prs_; }
  node_id transfer_target() const { return lead_transferee_; }
  bool promotable() const { return config_.is_voter(opts_.id); }
  // Whether the log is still short of options.no_vote_until. Once it got
  // there, recovery is over for good (a later truncation does not restart it).
  bool recovering() const { return log_.last_index() < no_vote_until_; }

 private:
  explicit node(const options& opts);

  // --- roles and elections (raft_election.cc) ---
  void reset(term_id t);
  void become_follower(term_id t, node_id lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  enum class campaign_kind { pre_election, election, transfer };
  void start_campaign(campaign_kind kind);
  enum class vote_result { pending, won, lost };
  vote_result poll(node_id from, bool granted);
  void handle_vote_request(const message& m);
  void step_candidate(const message& m);
  void tick_election();
  void tick_heartbeat();
  bool quorum_active();
  void reset_randomized_election_timeout();
  bool past_election_timeout() const { return election_elapsed_ >= randomized_election_timeout_; }

  // --- replication (raft_replication.cc) ---
  void step_leader(const message& m);
  void step_follower(const message& m);
  void handle_append(const message& m);
  void handle_heartbeat(const message& m);
  void handle_install_start(const message& m);
  // Leader: the follower needs offsets below our log start.
  void send_install_start(node_id to, progress& pr);
  void handle_append_resp(const message& m, progress& pr);
  void send_append(node_id to, bool send_if_empty = true);
  void bcast_append();
  void bcast_heartbeat();
  void append_entry(entry e);  // leader: appends its own entry
  // Leader: advances commit from the voters' match indexes (§5.3, §5.4.2).
  bool maybe_commit();
  void after_commit();  // leader: broadcast, and step down if it left the config
  void send(message m);
  log_index quorum_match() const;

  // --- membership and transfer (raft_membership.cc) ---
  // Records the config entries among `es` (appended just now) and reverts
  // configs whose entries were truncated (§4.1: the latest config in the log,
  // committed or not, is in effect).
  void track_config_entries(const std::vector<entry>& es);
  void scan_config_entries();
  void set_config(const config& c);
  void abort_transfer() { lead_transferee_ = no_node; }

  const entry_codec& codec() const { return *codec_; }

  hard_state current_hard_state() const { return {term_, vote_, log_.commit()}; }
  soft_state current_soft_state() const { return {lead_, role_}; }

  options opts_;
  const entry_codec* codec_;
  raft_log log_;
  term_id term_;
  node_id vote_ = no_node;
  node_id lead_ = no_node;
  raft::role role_ = role::follower;
  config config_;
  // (offset, term, config) of config entries, oldest first. Records at or
  // below commit are never reverted; the oldest kept is the newest one at or
  // below min(commit, first_index() - 1), so a leader can tell a follower
  // that restarts its log at its log start which membership is in effect.
  struct config_record {
    log_index index;
    term_id term;
    config conf;
  };
  std::vector<config_record> config_history_;
  // The newest config record at or below i; records are kept until the log
  // start passes the next one, so one exists for every i >= first_index() - 1.
  const config_record& config_at(log_index i) const;
  progress_map prs_;
  std::map<node_id, bool> votes_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  node_id lead_transferee_ = no_node;
  std::vector<message> msgs_;
  hard_state prev_hard_;
  soft_state prev_soft_;
  bool ready_outstanding_ = false;
  log_index no_vote_until_;  // options.no_vote_until until reached, then no_index
  std::mt19937_64 rng_;
};

}  // namespace kappa::raft
