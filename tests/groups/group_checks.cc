#include "tests/groups/group_checks.h"

#include <algorithm>

namespace kappa_groups {
namespace {

std::string at_ms(int64_t ns) { return std::to_string(ns / 1'000'000) + "ms"; }

// A bounded list: a broken property can produce thousands of lines.
void add(std::vector<std::string>& out, std::string line) {
  constexpr size_t kMaxLines = 40;
  if (out.size() < kMaxLines) out.push_back(std::move(line));
}

// The end of a member's log: its kill, its exit, or `now`.
int64_t log_end(const member_history& m, int64_t now_ns) {
  if (m.killed_at_ns >= 0) return m.killed_at_ns;
  for (auto it = m.log.events.rbegin(); it != m.log.events.rend(); ++it) {
    if (it->kind == event_kind::exit) return it->ts_ns;
  }
  return now_ns;
}

// (member, seq) -> offsets of COMMIT_BEGIN.
using begins_map = std::map<std::pair<std::string, int64_t>, const log_event*>;

begins_map commit_begins(const std::vector<member_history>& members) {
  begins_map out;
  for (const auto& m : members) {
    for (const auto& e : m.log.events) {
      if (e.kind == event_kind::commit_begin) out[{m.log.name, e.seq}] = &e;
    }
  }
  return out;
}

}  // namespace

std::map<kappa::topic_partition, std::vector<ownership_interval>> ownership_intervals(
    const std::vector<member_history>& members, int64_t now_ns, std::vector<std::string>& problems) {
  std::map<kappa::topic_partition, std::vector<ownership_interval>> out;
  for (const auto& m : members) {
    std::map<kappa::topic_partition, int64_t> open;  // tp -> start
    for (const auto& e : m.log.events) {
      if (e.kind == event_kind::assigned) {
        for (const auto& tp : e.partitions) {
          if (open.count(tp)) {
            add(problems, m.log.name + ": " + format_tp(tp) + " assigned again at " + at_ms(e.ts_ns) +
                              " without a revocation");
            continue;
          }
          open[tp] = e.ts_ns;
        }
      } else if (e.kind == event_kind::revoked || e.kind == event_kind::lost) {
        for (const auto& tp : e.partitions) {
          auto it = open.find(tp);
          if (it == open.end()) {
            add(problems, m.log.name + ": " + format_tp(tp) + (e.kind == event_kind::lost ? " lost" : " revoked") +
                              " at " + at_ms(e.ts_ns) + " while not owned");
            continue;
          }
          out[tp].push_back({m.log.name, tp, it->second, e.ts_ns, e.kind == event_kind::revoked});
          open.erase(it);
        }
      }
    }
    const int64_t end = log_end(m, now_ns);
    for (const auto& [tp, start] : open) out[tp].push_back({m.log.name, tp, start, std::max(start, end), false});
  }
  for (auto& [tp, list] : out) {
    std::sort(list.begin(), list.end(),
              [](const ownership_interval& a, const ownership_interval& b) { return a.start_ns < b.start_ns; });
  }
  return out;
}

std::vector<std::string> check_single_owner(
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals) {
  std::vector<std::string> out;
  for (const auto& [tp, list] : intervals) {
    for (size_t i = 0; i < list.size(); ++i) {
      for (size_t j = i + 1; j < list.size(); ++j) {
        const auto& a = list[i];
        const auto& b = list[j];
        if (a.member == b.member) continue;
        if (b.start_ns < a.end_ns && a.start_ns < b.end_ns) {
          add(out, format_tp(tp) + ": owned by " + a.member + " [" + at_ms(a.start_ns) + ", " + at_ms(a.end_ns) +
                       "] and by " + b.member + " [" + at_ms(b.start_ns) + ", " + at_ms(b.end_ns) + "]");
        }
      }
    }
  }
  return out;
}

std::vector<std::string> check_records_owned(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals) {
  std::vector<std::string> out;
  for (const auto& m : members) {
    // Per interval (identified by its start) the last offset processed in it.
    std::map<std::pair<kappa::topic_partition, int64_t>, int64_t> last_in_interval;
    for (const auto& e : m.log.events) {
      if (e.kind != event_kind::record) continue;
      const ownership_interval* owner = nullptr;
      auto it = intervals.find(e.tp);
      if (it != intervals.end()) {
        for (const auto& iv : it->second) {
          if (iv.member == m.log.name && iv.start_ns <= e.ts_ns && e.ts_ns <= iv.end_ns) owner = &iv;
        }
      }
      if (!owner) {
        add(out, m.log.name + ": processed " + format_tp(e.tp) + " offset " + std::to_string(e.offset) + " at " +
                     at_ms(e.ts_ns) + " without owning it");
        continue;
      }
      auto [slot, fresh] = last_in_interval.try_emplace({e.tp, owner->start_ns}, e.offset);
      if (!fresh) {
        if (e.offset <= slot->second) {
          add(out, m.log.name + ": " + format_tp(e.tp) + " offset " + std::to_string(e.offset) + " processed after " +
                       std::to_string(slot->second) + " within one ownership");
        }
        slot->second = e.offset;
      }
    }
  }
  return out;
}

std::vector<std::string> check_nothing_skipped(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::set<int64_t>>& produced) {
  std::map<kappa::topic_partition, std::set<int64_t>> processed;
  for (const auto& m : members) {
    for (const auto& e : m.log.events) {
      if (e.kind == event_kind::record) processed[e.tp].insert(e.offset);
    }
  }
  std::vector<std::string> out;
  for (const auto& [tp, offsets] : produced) {
    const auto& seen = processed[tp];
    int64_t missing = 0, first = -1, last = -1;
    for (int64_t off : offsets) {
      if (seen.count(off)) continue;
      if (missing == 0) first = off;
      last = off;
      ++missing;
    }
    if (missing > 0) {
      add(out, format_tp(tp) + ": " + std::to_string(missing) + " of " + std::to_string(offsets.size()) +
                   " produced records never processed (offsets " + std::to_string(first) + ".." +
                   std::to_string(last) + ")");
    }
  }
  return out;
}

std::vector<std::string> check_duplicates_uncommitted(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals) {
  const begins_map begins = commit_begins(members);
  // Successful commits: (ok time, member, tp, offset).
  struct commit {
    int64_t ts_ns;
    std::string member;
    int64_t offset;
  };
  std::map<kappa::topic_partition, std::vector<commit>> commits;
  std::map<std::string, const member_history*> by_name;
  for (const auto& m : members) {
    by_name[m.log.name] = &m;
    for (const auto& e : m.log.events) {
      if (e.kind != event_kind::commit_ok) continue;
      auto b = begins.find({m.log.name, e.seq});
      if (b == begins.end()) continue;
      for (const auto& [tp, off] : b->second->offsets) commits[tp].push_back({e.ts_ns, m.log.name, off});
    }
  }
  std::vector<std::string> out;
  for (const auto& [tp, list] : intervals) {
    for (const auto& iv : list) {
      int64_t committed = -1;
      std::string by;
      for (const auto& c : commits[tp]) {
        if (c.ts_ns < iv.start_ns && c.offset > committed) {
          committed = c.offset;
          by = c.member;
        }
      }
      if (committed < 0) continue;
      const member_history* m = by_name[iv.member];
      for (const auto& e : m->log.events) {
        if (e.kind != event_kind::record || e.tp != tp || e.ts_ns < iv.start_ns || e.ts_ns > iv.end_ns) continue;
        if (e.offset < committed) {
          add(out, iv.member + ": " + format_tp(tp) + " started at offset " + std::to_string(e.offset) + " at " +
                       at_ms(e.ts_ns) + ", below offset " + std::to_string(committed) + " committed by " + by +
                       " before its ownership began (" + at_ms(iv.start_ns) + ")");
        }
        break;  // offsets only increase within an ownership (check_records_owned)
      }
    }
  }
  return out;
}

int64_t count_duplicates(const std::vector<member_history>& members) {
  std::map<kappa::topic_partition, std::map<int64_t, int>> seen;
  int64_t dups = 0;
  for (const auto& m : members) {
    for (const auto& e : m.log.events) {
      if (e.kind == event_kind::record && seen[e.tp][e.offset]++ > 0) ++dups;
    }
  }
  return dups;
}

std::map<kappa::topic_partition, int64_t> committed_offsets(const std::vector<member_history>& members,
                                                            int64_t until_ns) {
  const begins_map begins = commit_begins(members);
  std::map<kappa::topic_partition, int64_t> out;
  for (const auto& m : members) {
    for (const auto& e : m.log.events) {
      if (e.kind != event_kind::commit_ok || e.ts_ns > until_ns) continue;
      auto b = begins.find({m.log.name, e.seq});
      if (b == begins.end()) continue;
      for (const auto& [tp, off] : b->second->offsets) out[tp] = std::max(out[tp], off);
    }
  }
  return out;
}

}  // namespace kappa_groups
