// group_checks: the properties the group process tests assert, computed from
// the members' own logs (tests/groups/member_log.h) and what the test
// produced. Each check returns its violations as readable lines (empty =
// the property holds), so a failing test shows exactly which partition,
// member and offsets broke it.
//
// Ownership intervals. A member owns a partition from its ASSIGNED line
// (entry to on_assigned) to its REVOKED line (exit from on_revoked, after
// the commit there) or LOST line. An interval still open at the end of a
// log ends at the member's SIGKILL time when it was killed, else at its
// EXIT line, else at `now` (still running). These bounds are conservative:
// the member cannot process the partition outside them.
//
// Thread safety: plain functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/groups/member_log.h"

namespace kappa_groups {

// One member's log with what the test did to it.
struct member_history {
  member_log log;
  int64_t killed_at_ns = -1;  // SIGKILL time (CLOCK_MONOTONIC), -1 if never
};

struct ownership_interval {
  std::string member;
  kappa::topic_partition tp;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  bool clean_end = false;  // ended by REVOKED (not LOST, kill, exit or still open)
};

// Every ownership interval, per partition, sorted by start. Inconsistencies
// of a single log (a partition assigned twice without a revocation, revoked
// while not owned) are added to `problems`.
std::map<kappa::topic_partition, std::vector<ownership_interval>> ownership_intervals(
    const std::vector<member_history>& members, int64_t now_ns, std::vector<std::string>& problems);

// (a) At every moment each partition has at most one owner: intervals of
// different members never overlap.
std::vector<std::string> check_single_owner(
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals);

// Every processed record (R line) lies inside an ownership interval of that
// member for that partition, and within one interval offsets only increase.
std::vector<std::string> check_records_owned(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals);

// (b) Every produced record was processed by some member.
std::vector<std::string> check_nothing_skipped(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::set<int64_t>>& produced);

// (b) Duplicates stay within the uncommitted window: an owner's first
// processed offset of a partition is at least the highest offset any member
// had successfully committed for it (COMMIT_OK) before the ownership began.
// So a record is processed again only if no commit covered it yet, and
// after a clean handoff (on_revoked committed) nothing is processed twice.
std::vector<std::string> check_duplicates_uncommitted(
    const std::vector<member_history>& members,
    const std::map<kappa::topic_partition, std::vector<ownership_interval>>& intervals);

// Records processed more than once (all members together), for reports.
int64_t count_duplicates(const std::vector<member_history>& members);

// The highest offset committed successfully per partition (COMMIT_OK), by
// any member, up to `until_ns`.
std::map<kappa::topic_partition, int64_t> committed_offsets(const std::vector<member_history>& members,
                                                            int64_t until_ns);

}  // namespace kappa_groups
