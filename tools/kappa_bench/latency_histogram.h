// A lock-free latency histogram for the client benchmarks: record() from any
// thread (delivery callbacks run on libkappa's I/O threads), read once at the
// end. Log-linear buckets of microseconds: exact below 1024 us, then 512
// sub-buckets per power of two, so a percentile is within 0.2% of the true
// value. Fixed size (a few hundred KiB): no sample vector that grows with
// the run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace kappa::bench {

class latency_histogram {
 public:
  void record_us(int64_t us);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double mean_ms() const;
  double max_ms() const { return max_us_.load(std::memory_order_relaxed) / 1000.0; }
  // The q-quantile (0 < q <= 1) in ms; 0 with no samples.
  double percentile_ms(double q) const;

 private:
  static constexpr int kSubBits = 9;  // 512 sub-buckets per power of two
  static constexpr int kLinear = 1 << (kSubBits + 1);
  static constexpr int kBuckets = kLinear + (40 - kSubBits) * (1 << kSubBits);
  static int bucket_of(uint64_t us);
  static uint64_t value_of(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
  std::atomic<uint64_t> max_us_{0};
};

}  // namespace kappa::bench
