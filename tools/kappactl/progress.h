// Text of kappactl's progress reports (replay): a one-line bar for a
// terminal, a plain line for logs, and the final summary. Pure functions of
// a progress snapshot, so they are unit-tested without a broker or a clock.
// Thread safety: none needed (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kappa::kappactl {

struct progress_snapshot {
  uint64_t records = 0;        // records copied (acknowledged) so far
  uint64_t bytes = 0;          // their key + value + header bytes
  uint64_t done_offsets = 0;   // offsets of the range read so far
  uint64_t total_offsets = 0;  // offsets in the whole range (0: nothing to do)
  double elapsed_s = 0;
};

// "12.3 MB" (decimal megabytes, one decimal; "0.0 MB" for nothing).
std::string format_megabytes(uint64_t bytes);
// "0:07", "12:34", "1:02:03"; "--:--" for nullopt.
std::string format_duration(std::optional<double> seconds);
// Records per second so far; 0 before any time passed.
double record_rate(const progress_snapshot& s);
// Seconds left at the rate so far, from the share of offsets read; nullopt
// while no rate is known; 0 once everything is read.
std::optional<double> eta_seconds(const progress_snapshot& s);
// Fraction of the range read, in [0, 1] (1 for an empty range).
double done_fraction(const progress_snapshot& s);

// "[#########...........]  45%  1234 records  1.2 MB  850 rec/s  ETA 0:04"
// with a bar of `bar_width` cells.
std::string format_progress_bar(const progress_snapshot& s, int bar_width = 30);
// "progress: 45% 1234 records 1.2 MB 850 records/s ETA 0:04"
std::string format_progress_line(const progress_snapshot& s);
// "replayed 1234 records (1.2 MB) from A to B in 0:02 (617 records/s)"
std::string format_replay_summary(const progress_snapshot& s, const std::string& from_topic,
                                  const std::string& to_topic);

}  // namespace kappa::kappactl
