// Progress lines of the client benchmarks, every interval, in the style of
// kafka-producer-perf-test: "N records <verb>, R records/sec (M MB/sec),
// A ms avg latency, X ms max latency." over the last window. Counters are
// atomics fed from any thread; a reporter thread prints and resets the
// window, and stops (joined) on destruction.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "tools/kappa_bench/bench_util.h"

namespace kappa::bench {

class progress_meter {
 public:
  progress_meter(std::FILE* out, std::string verb, double interval_s, bool with_latency)
      : out_(out),
        verb_(std::move(verb)),
        interval_s_(interval_s),
        with_latency_(with_latency),
        thread_([this] { loop(); }) {}
  ~progress_meter() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void add(uint64_t records, uint64_t bytes) {
    records_.fetch_add(records, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void add_latency_us(int64_t us) {
    uint64_t v = us < 0 ? 0 : static_cast<uint64_t>(us);
    lat_sum_us_.fetch_add(v, std::memory_order_relaxed);
    lat_count_.fetch_add(1, std::memory_order_relaxed);
    uint64_t m = lat_max_us_.load(std::memory_order_relaxed);
    while (v > m && !lat_max_us_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    stopwatch window;
    while (
        !cv_.wait_for(lock, std::chrono::duration<double>(interval_s_), [this] { return stop_; })) {
      double s = window.seconds();
      window = stopwatch();
      uint64_t n = records_.exchange(0), b = bytes_.exchange(0);
      uint64_t ls = lat_sum_us_.exchange(0), lc = lat_count_.exchange(0),
               lm = lat_max_us_.exchange(0);
      if (with_latency_) {
        std::fprintf(out_,
                     "%llu records %s, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f "
                     "ms max latency.\n",
                     static_cast<unsigned long long>(n), verb_.c_str(), n / s, b / kMB / s,
                     lc ? ls / 1000.0 / lc : 0.0, lm / 1000.0);
      } else {
        std::fprintf(out_, "%llu records %s, %.1f records/sec (%.2f MB/sec).\n",
                     static_cast<unsigned long long>(n), verb_.c_str(), n / s, b / kMB / s);
      }
      std::fflush(out_);
    }
  }

  std::FILE* out_;
  std::string verb_;
  double interval_s_;
  bool with_latency_;
  std::atomic<uint64_t> records_{0}, bytes_{0}, lat_sum_us_{0}, lat_count_{0}, lat_max_us_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it reads
};

inline int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace kappa::bench
