#include "tools/kappactl/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kappa::kappactl {
namespace {

std::string printf_string(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string rate_text(double rate) { return printf_string("%.0f", rate); }

}  // namespace

std::string format_megabytes(uint64_t bytes) {
  return printf_string("%.1f MB", static_cast<double>(bytes) / 1e6);
}

std::string format_duration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "--:--";
  const auto total = static_cast<uint64_t>(std::llround(*seconds));
  const uint64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  char buf[64];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(s));
  }
  return buf;
}

double record_rate(const progress_snapshot& s) {
  return s.elapsed_s > 0 ? static_cast<double>(s.records) / s.elapsed_s : 0;
}

double done_fraction(const progress_snapshot& s) {
  if (s.total_offsets == 0) return 1;
  return std::min(1.0, static_cast<double>(s.done_offsets) / static_cast<double>(s.total_offsets));
}

std::optional<double> eta_seconds(const progress_snapshot& s) {
  if (s.done_offsets >= s.total_offsets) return 0.0;
  // Offsets, not records, measure what is left: control batches and
  // compacted-away offsets take no record but still count as read.
  if (s.elapsed_s <= 0 || s.done_offsets == 0) return std::nullopt;
  const double offsets_per_s = static_cast<double>(s.done_offsets) / s.elapsed_s;
  return static_cast<double>(s.total_offsets - s.done_offsets) / offsets_per_s;
}

std::string format_progress_bar(const progress_snapshot& s, int bar_width) {
  const double fraction = done_fraction(s);
  const int width = std::max(bar_width, 1);
  const int filled = std::clamp(static_cast<int>(fraction * width), 0, width);
  std::string out = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(width - filled), '.') + "] ";
  out += printf_string("%3.0f%%", std::floor(fraction * 100));
  out += "  " + std::to_string(s.records) + " records  " + format_megabytes(s.bytes) + "  " +
         rate_text(record_rate(s)) + " rec/s  ETA " + format_duration(eta_seconds(s));
  return out;
}

std::string format_progress_line(const progress_snapshot& s) {
  return "progress: " + printf_string("%.0f%%", std::floor(done_fraction(s) * 100)) + " " +
         std::to_string(s.records) + " records " + format_megabytes(s.bytes) + " " +
         rate_text(record_rate(s)) + " records/s ETA " + format_duration(eta_seconds(s));
}

std::string format_replay_summary(const progress_snapshot& s, const std::string& from_topic,
                                  const std::string& to_topic) {
  return "replayed " + std::to_string(s.records) + " records (" + format_megabytes(s.bytes) +
         ") from " + from_topic + " to " + to_topic + " in " + format_duration(s.elapsed_s) + " (" +
         rate_text(record_rate(s)) + " records/s)";
}

}  // namespace kappa::kappactl
