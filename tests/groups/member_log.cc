#include "tests/groups/member_log.h"

#include <fstream>
#include <sstream>

namespace kappa_groups {
namespace {

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    out = std::stoll(s, &used);
  } catch (...) {
    return false;
  }
  return used == s.size();
}

// "<topic>:<p>" optionally followed by "@<position>" or "=<offset>".
bool parse_tp(const std::string& s, char suffix, kappa::topic_partition& tp, int64_t& value) {
  std::string head = s;
  value = -1;
  if (suffix != 0) {
    const size_t at = s.rfind(suffix);
    if (at == std::string::npos) return false;
    if (!parse_int(s.substr(at + 1), value)) return false;
    head = s.substr(0, at);
  }
  const size_t colon = head.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int64_t p = 0;
  if (!parse_int(head.substr(colon + 1), p)) return false;
  tp.topic = head.substr(0, colon);
  tp.partition = int32_t(p);
  return true;
}

std::string rest_of(std::istringstream& in) {
  std::string rest;
  std::getline(in, rest);
  if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  return rest;
}

bool parse_line(const std::string& line, log_event& e) {
  std::istringstream in(line);
  std::string name, ts;
  if (!(in >> name >> ts) || !parse_int(ts, e.ts_ns)) return false;
  std::string word;
  int64_t n = 0;
  if (name == "START" || name == "EXIT" || name == "BATCH") {
    e.kind = name == "START" ? event_kind::start : name == "EXIT" ? event_kind::exit : event_kind::batch;
    if (!(in >> word) || !parse_int(word, n)) return false;
    e.code = int(n);
    return true;
  }
  if (name == "MEMBER") {
    e.kind = event_kind::member;
    if (!(in >> e.member_id >> word) || !parse_int(word, n)) return false;
    e.epoch = int32_t(n);
    return true;
  }
  if (name == "ASSIGNED" || name == "REVOKED" || name == "LOST") {
    e.kind = name == "ASSIGNED" ? event_kind::assigned : name == "REVOKED" ? event_kind::revoked : event_kind::lost;
    while (in >> word) {
      kappa::topic_partition tp;
      int64_t pos = -1;
      if (!parse_tp(word, e.kind == event_kind::assigned ? '@' : 0, tp, pos)) return false;
      e.partitions.push_back(tp);
      e.positions.push_back(pos);
    }
    return true;
  }
  if (name == "R") {
    e.kind = event_kind::record;
    std::string p, off;
    int64_t pv = 0;
    if (!(in >> e.tp.topic >> p >> off) || !parse_int(p, pv) || !parse_int(off, e.offset)) return false;
    e.tp.partition = int32_t(pv);
    return true;
  }
  if (name == "COMMIT_BEGIN" || name == "COMMIT_OK" || name == "COMMIT_FAIL") {
    e.kind = name == "COMMIT_BEGIN" ? event_kind::commit_begin
             : name == "COMMIT_OK"  ? event_kind::commit_ok
                                    : event_kind::commit_fail;
    if (!(in >> word) || !parse_int(word, e.seq)) return false;
    if (e.kind == event_kind::commit_begin) {
      while (in >> word) {
        kappa::topic_partition tp;
        int64_t off = -1;
        if (!parse_tp(word, '=', tp, off)) return false;
        e.offsets[tp] = off;
      }
    } else if (e.kind == event_kind::commit_fail) {
      if (!(in >> word) || !parse_int(word, n)) return false;
      e.code = int(n);
      e.message = rest_of(in);
    }
    return true;
  }
  if (name == "POLL_ERROR") {
    e.kind = event_kind::poll_error;
    if (!(in >> word) || !parse_int(word, n)) return false;
    e.code = int(n);
    e.message = rest_of(in);
    return true;
  }
  return false;
}

}  // namespace

std::string format_tp(const kappa::topic_partition& tp) { return tp.topic + ":" + std::to_string(tp.partition); }

member_log parse_member_log(const std::string& text, const std::string& name) {
  member_log log;
  log.name = name;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    log_event e;
    if (parse_line(line, e)) {
      log.events.push_back(std::move(e));
    } else {
      log.bad_lines.push_back(line);
    }
  }
  return log;
}

member_log read_member_log(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_member_log(ss.str(), name);
}

std::string describe(const log_event& e) {
  static const char* names[] = {"START", "MEMBER", "ASSIGNED", "REVOKED", "LOST", "BATCH", "R",
                                "COMMIT_BEGIN", "COMMIT_OK", "COMMIT_FAIL", "POLL_ERROR", "EXIT"};
  std::string out = std::string(names[int(e.kind)]) + " t=" + std::to_string(e.ts_ns);
  switch (e.kind) {
    case event_kind::record: out += " " + format_tp(e.tp) + " @" + std::to_string(e.offset); break;
    case event_kind::assigned:
    case event_kind::revoked:
    case event_kind::lost:
      for (const auto& tp : e.partitions) out += " " + format_tp(tp);
      break;
    case event_kind::commit_begin:
      out += " #" + std::to_string(e.seq);
      for (const auto& [tp, off] : e.offsets) out += " " + format_tp(tp) + "=" + std::to_string(off);
      break;
    case event_kind::commit_ok: out += " #" + std::to_string(e.seq); break;
    case event_kind::commit_fail:
      out += " #" + std::to_string(e.seq) + " code " + std::to_string(e.code) + " " + e.message;
      break;
    case event_kind::member: out += " " + e.member_id + " epoch " + std::to_string(e.epoch); break;
    default: out += " " + std::to_string(e.code) + (e.message.empty() ? "" : " " + e.message); break;
  }
  return out;
}

}  // namespace kappa_groups
