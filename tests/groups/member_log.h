// member_log: the line format group_member writes (one event per line, each
// written with a single write(2) on an O_APPEND descriptor, so a SIGKILL
// loses at most the event being written and never interleaves lines), and
// its parser for the tests.
//
// Every line starts with the event name and a CLOCK_MONOTONIC timestamp in
// nanoseconds (the test process and the members run on one machine, so the
// timestamps of all logs and of the test's own actions share one clock):
//
//   START <ts> <pid>
//   MEMBER <ts> <member_id> <member_epoch>        (after a poll saw a change)
//   ASSIGNED <ts> <topic>:<p>@<position> ...      (on entry to on_assigned)
//   REVOKED <ts> <topic>:<p> ...                  (on exit from on_revoked,
//                                                  after its commit)
//   LOST <ts> <topic>:<p> ...                     (on entry to on_lost)
//   BATCH <ts> <records>                          (a poll returned records)
//   R <ts> <topic> <p> <offset>                   (one record processed)
//   COMMIT_BEGIN <ts> <seq> <topic>:<p>=<offset> ...
//   COMMIT_OK <ts> <seq>
//   COMMIT_FAIL <ts> <seq> <client_errc value> <message...>
//   POLL_ERROR <ts> <client_errc value> <message...>
//   EXIT <ts> <status>
//
// Topic names cannot hold ':' or '@' (Kafka's rule: [a-zA-Z0-9._-]).
//
// Thread safety: plain functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kappa/types.h"

namespace kappa_groups {

enum class event_kind {
  start, member, assigned, revoked, lost, batch, record, commit_begin, commit_ok, commit_fail,
  poll_error, exit,
};

struct log_event {
  event_kind kind = event_kind::start;
  int64_t ts_ns = 0;
  // assigned / revoked / lost: the partitions; assigned: positions (-1
  // when the member could not resolve one).
  std::vector<kappa::topic_partition> partitions;
  std::vector<int64_t> positions;
  // record: tp and offset.
  kappa::topic_partition tp;
  int64_t offset = -1;
  // commit_*: the commit's sequence number; commit_begin: the offsets.
  int64_t seq = -1;
  std::map<kappa::topic_partition, int64_t> offsets;
  // member: id and epoch. commit_fail / poll_error: code and message.
  // start: pid in `code`; exit: status in `code`; batch: count in `code`.
  std::string member_id;
  int32_t epoch = -1;
  int code = 0;
  std::string message;
};

struct member_log {
  std::string name;  // the test's name for the member
  std::vector<log_event> events;
  // Lines that did not parse (a torn last line of a SIGKILLed member is
  // expected; anything else is a bug in the member or the parser).
  std::vector<std::string> bad_lines;
};

// Reads and parses one member's log file; a missing file is an empty log.
member_log read_member_log(const std::string& path, const std::string& name);
member_log parse_member_log(const std::string& text, const std::string& name);

// Formatting helpers shared by the member and the parser.
std::string format_tp(const kappa::topic_partition& tp);
std::string describe(const log_event& e);

}  // namespace kappa_groups
