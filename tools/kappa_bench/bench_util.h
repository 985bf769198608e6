// Small pieces shared by the kappa-bench workloads: a stopwatch, throughput
// figures and throttled progress lines for long phases.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace kappa::bench {

inline constexpr double kMB = 1e6;  // throughput figures use decimal units, as disk vendors do
inline constexpr double kGB = 1e9;

class stopwatch {
 public:
  stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

struct throughput {
  uint64_t bytes = 0;
  double seconds = 0;
  double mb_per_s() const { return seconds > 0 ? bytes / kMB / seconds : 0; }
  double gb_per_s() const { return seconds > 0 ? bytes / kGB / seconds : 0; }
};

// Prints "<phase>: <done> of <total> MiB (p%), <rate> MB/s" at most every
// interval. Safe to call from several threads: one of them prints.
class progress {
 public:
  progress(std::FILE* out, std::string phase, uint64_t total_bytes, double interval_s = 2.0)
      : out_(out), phase_(std::move(phase)), total_bytes_(total_bytes), interval_s_(interval_s) {}

  void add(uint64_t bytes) {
    uint64_t done = done_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    double now = clock_.seconds();
    if (now - last_print_s_.load(std::memory_order_relaxed) < interval_s_) return;
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    last_print_s_.store(now, std::memory_order_relaxed);
    std::fprintf(out_, "  %s: %llu of %llu MiB (%.0f%%), %.1f MB/s\n", phase_.c_str(),
                 static_cast<unsigned long long>(done >> 20),
                 static_cast<unsigned long long>(total_bytes_ >> 20),
                 total_bytes_ ? 100.0 * done / total_bytes_ : 100.0, done / kMB / now);
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  std::string phase_;
  uint64_t total_bytes_;
  double interval_s_;
  stopwatch clock_;
  std::atomic<uint64_t> done_bytes_{0};
  std::atomic<double> last_print_s_{0};
  std::mutex mu_;
};

}  // namespace kappa::bench
