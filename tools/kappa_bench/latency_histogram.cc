#include "tools/kappa_bench/latency_histogram.h"

#include <bit>

namespace kappa::bench {

int latency_histogram::bucket_of(uint64_t us) {
  if (us < kLinear) return static_cast<int>(us);
  int exp = std::bit_width(us) - 1;  // >= kSubBits + 1
  int shift = exp - kSubBits;
  int sub = static_cast<int>((us >> shift) & ((1 << kSubBits) - 1));
  int b = kLinear + (exp - kSubBits - 1) * (1 << kSubBits) + sub;
  return b < kBuckets ? b : kBuckets - 1;
}

uint64_t latency_histogram::value_of(int b) {
  if (b < kLinear) return static_cast<uint64_t>(b);
  int rel = b - kLinear;
  int exp = rel / (1 << kSubBits) + kSubBits + 1;
  uint64_t sub = static_cast<uint64_t>(rel % (1 << kSubBits));
  int shift = exp - kSubBits;
  // The bucket's midpoint.
  return ((uint64_t{1} << kSubBits | sub) << shift) + (uint64_t{1} << shift) / 2;
}

void latency_histogram::record_us(int64_t us) {
  uint64_t v = us < 0 ? 0 : static_cast<uint64_t>(us);
  buckets_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(v, std::memory_order_relaxed);
  uint64_t m = max_us_.load(std::memory_order_relaxed);
  while (v > m && !max_us_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
  }
}

double latency_histogram::mean_ms() const {
  uint64_t n = count();
  return n ? sum_us_.load(std::memory_order_relaxed) / 1000.0 / n : 0;
}

double latency_histogram::percentile_ms(double q) const {
  uint64_t n = count();
  if (n == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * n + 0.5);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b].load(std::memory_order_relaxed);
    if (seen >= rank) {
      uint64_t v = value_of(b);
      uint64_t m = max_us_.load(std::memory_order_relaxed);
      return (v < m ? v : m) / 1000.0;
    }
  }
  return max_ms();
}

}  // namespace kappa::bench
