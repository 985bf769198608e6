// Value types of the Raft core: strong ids, log entries, hard state,
// membership and messages.
//
// Kappa's Raft log IS the partition log. One entry is one record batch and
// occupies the contiguous offsets [base_index, last_index]; the next entry
// starts at last_index + 1. An index is a Kafka offset, so the first entry of
// a fresh log starts at 0 and "before the first entry" is index -1 (term 0).
// term(i) is defined for every offset i inside an entry. The term is Kafka's
// leader epoch; the commit index is the last committed offset (Kafka's high
// watermark is commit + 1).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace kappa::raft {

// A number that must not be mixed up with the other kinds of numbers.
template <typename Tag, typename Rep>
struct strong_id {
  Rep value{};
  constexpr strong_id() = default;
  constexpr explicit strong_id(Rep v) : value(v) {}
  constexpr auto operator<=>(const strong_id&) const = default;
};

using node_id = strong_id<struct node_id_tag, uint64_t>;
using term_id = strong_id<struct term_id_tag, uint64_t>;
using log_index = strong_id<struct log_index_tag, int64_t>;

inline constexpr node_id no_node{0};      // "nobody": no vote, no known leader
inline constexpr log_index no_index{-1};  // before the first offset of a fresh log

// Offsets are counted, so index arithmetic takes plain integers.
constexpr log_index operator+(log_index i, int64_t n) {
  return log_index(i.value + n);
}
constexpr log_index operator-(log_index i, int64_t n) {
  return log_index(i.value - n);
}
constexpr int64_t operator-(log_index a, log_index b) {
  return a.value - b.value;
}
constexpr term_id next_term(term_id t) {
  return term_id(t.value + 1);
}

enum class entry_type : uint8_t {
  normal,  // a record batch: the payload is opaque to the core
  noop,    // the empty entry a new leader appends (Kappa: a control batch)
  config,  // a membership change; the payload encodes the whole new config
};

struct entry {
  term_id term;
  log_index base_index;
  log_index last_index;  // INVARIANT: last_index >= base_index
  entry_type type = entry_type::normal;
  std::string payload;  // bytes, opaque to the core (except for config entries)

  int64_t offset_count() const { return last_index - base_index + 1; }
  bool contains(log_index i) const { return base_index <= i && i <= last_index; }
  bool operator==(const entry&) const = default;
};

// What must be on stable storage before a message that depends on it leaves
// the node (Raft §5, Figure 2 "persistent state"; commit is kept as well so a
// restart does not have to relearn it).
struct hard_state {
  term_id term;
  node_id vote = no_node;
  log_index commit = no_index;
  bool operator==(const hard_state&) const = default;
};


// Membership. Learners receive entries but never vote and never count for
// commit or elections. A node is in at most one of the two lists.
struct config {
  std::vector<node_id> voters;    // sorted, unique
  std::vector<node_id> learners;  // sorted, unique
  bool is_voter(node_id id) const;
  bool is_learner(node_id id) const;
  bool contains(node_id id) const { return is_voter(id) || is_learner(id); }
  bool operator==(const config&) const = default;
};

// One server at a time (Raft dissertation §4.1).
struct config_change {
  enum class kind : uint8_t { add_voter, add_learner, promote, remove } type;
  node_id node;
};

// Where a log that restarts empty begins: its first offset and the term of
// the offset before it (what log_view::term(start - 1) must then return),
// plus the membership in effect at start - 1, whose config entry (at
// conf_index) may lie below start: a restarted log no longer holds it.
struct log_start {
  log_index start;
  term_id prev_term;
  config conf;
  log_index conf_index = no_index;
  bool operator==(const log_start&) const = default;
};

enum class role : uint8_t { follower, pre_candidate, candidate, leader };

// Volatile state worth reporting (not persisted).
struct soft_state {
  node_id leader = no_node;
  raft::role role = role::follower;
  bool operator==(const soft_state&) const = default;
};

enum class message_type : uint8_t {
  pre_vote,  // dissertation §9.6: would you vote for me at `term`?
  pre_vote_resp,
  vote,  // Raft §5.2 RequestVote
  vote_resp,
  append,  // Raft §5.3 AppendEntries (with entries, or a probe)
  append_resp,
  heartbeat,  // empty AppendEntries without the log check (etcd style)
  heartbeat_resp,
  timeout_now,  // dissertation §3.10: the transfer target starts an election now
  // Kappa's replacement for snapshots: the follower needs offsets below the
  // leader's log start, so it restarts its log empty right after `index`
  // (the leader's first_index() - 1, committed, of term `log_term`). entries
  // holds one config entry: the membership in effect at `index` (usually
  // below the leader's log start; a newer committed one when the leader
  // knows no older). Answered by append_resp.
  install_start,
};

struct message {
  message_type type = message_type::append;
  node_id from;
  node_id to;
  term_id term;
  // vote/pre_vote: the candidate's last term and index (§5.4.1).
  // append: the term and index of the entry before `entries` (prev_log_*).
  // install_start: the leader's first_index() - 1 and its term.
  // append_resp reject: the follower's term at reject_hint.
  term_id log_term;
  log_index index = no_index;
  std::vector<entry> entries;
  log_index commit = no_index;  // leader's commit (append, heartbeat, install_start)
  bool reject = false;
  // append_resp reject: the follower's guess of the last offset where its log
  // may match the leader's (fast backtracking, etcd's findConflictByTerm).
  log_index reject_hint = no_index;
  // vote: set by a leadership transfer, so voters ignore their leader lease.
  bool transfer = false;
  // append_resp reject / heartbeat_resp: the sender is recovering (its log
  // lost a damaged range at restart, see options.no_vote_until), so it may
  // lack entries it once acknowledged. The leader believes its reject even
  // when it looks stale and probes it again from its hint.
  bool lost_entries = false;
};

const char* to_string(message_type t);
const char* to_string(role r);
const char* to_string(entry_type t);
std::string to_string(const entry& e);  // "term/[base,last] type payload"
std::string to_string(const message& m);
std::string to_string(const config& c);
std::string to_string(const hard_state& h);

// The payload of a config entry: the whole new config.
std::string encode_config(const config& c);
// False when the bytes are not a config encoding.
bool decode_config(const std::string& bytes, config* out);

}  // namespace kappa::raft
