// The planner behind `kappactl group reset-offsets`: from the chosen mode
// and what the command learnt of each partition (committed offset, log
// start, high watermark, offset at a time), the new committed offset of
// every partition, clamped to [log start, high watermark] as Kafka's tool
// clamps it. Also the parsers of its inputs: --topic T[:P,...],
// ISO-8601 durations (--by-duration) and Kafka's reset CSV (--from-file).
//
// Pure: no I/O, no clock (callers pass "now"), no broker. Every error is a
// Status with client_errc::invalid_argument (unknown_topic_or_partition for
// a partition that does not exist) and a message a user can act on.
// Thread safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kappa/error.h"
#include "kappa/types.h"

namespace kappa::kappactl {

enum class reset_mode {
  to_earliest,
  to_latest,
  to_offset,
  to_datetime,
  by_duration,
  shift_by,
  from_file
};

// "--to-earliest" etc., for messages.
const char* reset_mode_flag(reset_mode mode);

// The mode flags as given on the command line (unset = not given). The
// datetime is already parsed (ms since the epoch); the duration and the CSV
// are raw text.
struct reset_flags {
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<int64_t> to_datetime_ms;
  std::optional<std::string> by_duration;
  std::optional<int64_t> shift_by;
  std::optional<std::string> from_file_csv;  // the file's contents
};

struct reset_spec {
  reset_mode mode = reset_mode::to_earliest;
  int64_t offset = 0;        // to_offset
  int64_t shift = 0;         // shift_by
  int64_t timestamp_ms = 0;  // to_datetime, by_duration: the time to reset to
  std::map<topic_partition, int64_t> file_offsets;  // from_file
};

// Exactly one mode must be set. --to-datetime must not be in the future
// and --by-duration reaches back from now_ms; --to-offset must be >= 0.
Result<reset_spec> make_reset_spec(const reset_flags& flags, int64_t now_ms);

// "P1D", "PT1H", "PT30M", "PT1.5S", "P1W", "P1DT12H" (case-insensitive):
// milliseconds. Weeks, days, hours, minutes, seconds only (years and months
// have no fixed length); the total must be > 0.
Result<int64_t> parse_iso8601_duration_ms(const std::string& text);

// Kafka's reset file: one "topic,partition,offset" per line (blank lines
// and surrounding spaces ignored; CRLF accepted). Errors name the line.
Result<std::map<topic_partition, int64_t>> parse_reset_csv(const std::string& text);

// --topic T (every partition) or T:P,P,... .
struct topic_selection {
  std::string topic;
  std::vector<int32_t> partitions;  // empty: every partition
};
Result<topic_selection> parse_topic_selection(const std::string& text);

// The partitions the selections name, sorted and without duplicates;
// `existing` holds each named topic's partitions (a topic missing from it
// is unknown).
Result<std::vector<topic_partition>> expand_selections(
    const std::vector<topic_selection>& selections,
    const std::map<std::string, std::vector<int32_t>>& existing);

// What the command knows of one partition before planning.
struct partition_state {
  topic_partition tp;
  int64_t committed = -1;  // -1: nothing committed
  int64_t log_start = 0;
  int64_t high_watermark = 0;
  // to_datetime / by_duration: the first offset whose timestamp is >= the
  // time (ListOffsets), -1 when no record is that recent.
  int64_t offset_at_time = -1;
};

struct planned_reset {
  topic_partition tp;
  int64_t current = -1;    // committed now, -1: none
  int64_t requested = -1;  // what the mode asked for
  int64_t target = -1;     // requested, clamped to [log start, high watermark]
  // Why target differs from requested (empty when it does not).
  std::string note;
};

// One entry per partition of `partitions` (for from_file: per file entry,
// each of which must be in `partitions`), sorted by topic and partition.
// Fails for shift_by on a partition without a committed offset.
Result<std::vector<planned_reset>> plan_resets(const reset_spec& spec,
                                               const std::vector<partition_state>& partitions);

}  // namespace kappa::kappactl
