// String forms (for traces and logs) and the config entry encoding.
#include "replication/raft/types.h"

#include <algorithm>

namespace kappa::raft {
namespace {

bool contains_id(const std::vector<node_id>& ids, node_id id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string ids_to_string(const std::vector<node_id>& ids) {
  std::string s = "(";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(ids[i].value);
  }
  return s + ")";
}

void put_u64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool get_u64(const std::string& in, size_t* pos, uint64_t* v) {
  if (in.size() - *pos < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) {
    *v |= static_cast<uint64_t>(static_cast<unsigned char>(in[*pos + i])) << (8 * i);
  }
  *pos += 8;
  return true;
}

bool get_ids(const std::string& in, size_t* pos, std::vector<node_id>* ids) {
  uint64_t n = 0;
  if (!get_u64(in, pos, &n)) return false;
  if (n > (in.size() - *pos) / 8) return false;  // a count the bytes cannot hold
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!get_u64(in, pos, &v)) return false;
    ids->push_back(node_id(v));
  }
  return std::is_sorted(ids->begin(), ids->end());
}

}  // namespace

bool config::is_voter(node_id id) const {
  return contains_id(voters, id);
}
bool config::is_learner(node_id id) const {
  return contains_id(learners, id);
}

const char* to_string(message_type t) {
  switch (t) {
    case message_type::pre_vote:
      return "pre-vote";
    case message_type::pre_vote_resp:
      return "pre-vote-resp";
    case message_type::vote:
      return "vote";
    case message_type::vote_resp:
      return "vote-resp";
    case message_type::append:
      return "append";
    case message_type::append_resp:
      return "append-resp";
    case message_type::heartbeat:
      return "heartbeat";
    case message_type::heartbeat_resp:
      return "heartbeat-resp";
    case message_type::timeout_now:
      return "timeout-now";
    case message_type::install_start:
      return "install-start";
  }
  return "?";
}

const char* to_string(role r) {
  switch (r) {
    case role::follower:
      return "follower";
    case role::pre_candidate:
      return "pre-candidate";
    case role::candidate:
      return "candidate";
    case role::leader:
      return "leader";
  }
  return "?";
}

const char* to_string(entry_type t) {
  switch (t) {
    case entry_type::normal:
      return "normal";
    case entry_type::noop:
      return "noop";
    case entry_type::config:
      return "config";
  }
  return "?";
}

std::string to_string(const entry& e) {
  std::string s = std::to_string(e.term.value) + "/[" + std::to_string(e.base_index.value) + "," +
                  std::to_string(e.last_index.value) + "] " + to_string(e.type);
  if (e.type == entry_type::config) {
    config c;
    s += decode_config(e.payload, &c) ? " " + to_string(c) : " <bad config>";
  } else if (e.type == entry_type::normal) {
    s += " \"" + e.payload + "\"";
  }
  return s;
}

std::string to_string(const config& c) {
  std::string s = "voters=" + ids_to_string(c.voters);
  if (!c.learners.empty()) s += " learners=" + ids_to_string(c.learners);
  return s;
}

std::string to_string(const hard_state& h) {
  return "term=" + std::to_string(h.term.value) + " vote=" + std::to_string(h.vote.value) +
         " commit=" + std::to_string(h.commit.value);
}

std::string to_string(const message& m) {
  std::string s = std::to_string(m.from.value) + "->" + std::to_string(m.to.value) + " " +
                  to_string(m.type) + " term=" + std::to_string(m.term.value);
  auto idx = [](log_index i) { return std::to_string(i.value); };
  switch (m.type) {
    case message_type::pre_vote:
    case message_type::vote:
      s += " last=" + std::to_string(m.log_term.value) + "/" + idx(m.index);
      if (m.transfer) s += " transfer";
      if (m.lost_entries) s += " lost-entries";
      break;
    case message_type::pre_vote_resp:
    case message_type::vote_resp:
      s += m.reject ? " rejected" : " granted";
      break;
    case message_type::append:
      s += " prev=" + std::to_string(m.log_term.value) + "/" + idx(m.index) +
           " commit=" + idx(m.commit);
      if (!m.entries.empty()) {
        s += " entries=[";
        for (size_t i = 0; i < m.entries.size(); ++i) {
          if (i) s += ", ";
          s += to_string(m.entries[i]);
        }
        s += "]";
      }
      break;
    case message_type::append_resp:
      s += " index=" + idx(m.index);
      if (m.reject) {
        s += " rejected hint=" + std::to_string(m.log_term.value) + "/" + idx(m.reject_hint);
      }
      break;
    case message_type::heartbeat:
      s += " commit=" + idx(m.commit);
      break;
    case message_type::install_start:
      s += " start=" + idx(m.index + 1) + " prev=" + std::to_string(m.log_term.value) + "/" +
           idx(m.index) + " commit=" + idx(m.commit);
      for (const entry& e : m.entries) s += " conf=" + to_string(e);
      break;
    case message_type::heartbeat_resp:
    case message_type::timeout_now:
      break;
  }
  return s;
}

std::string encode_config(const config& c) {
  std::string out;
  put_u64(&out, c.voters.size());
  for (node_id id : c.voters) put_u64(&out, id.value);
  put_u64(&out, c.learners.size());
  for (node_id id : c.learners) put_u64(&out, id.value);
  return out;
}

bool decode_config(const std::string& bytes, config* out) {
  config c;
  size_t pos = 0;
  if (!get_ids(bytes, &pos, &c.voters) || !get_ids(bytes, &pos, &c.learners)) return false;
  if (pos != bytes.size()) return false;
  *out = std::move(c);
  return true;
}

}  // namespace kappa::raft
