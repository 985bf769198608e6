// Exponential retry backoff with jitter, shared by every retry loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

#include "kappa/client_config.h"

namespace kappa::client {

// Wait before retry number `attempt` (1 = first retry): min * 2^(attempt-1),
// capped at max, times a uniform factor in [0.8, 1.2] so clients that failed
// together spread out.
inline int64_t backoff_ms(const client_config& config, int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  int64_t base = std::max<int64_t>(1, config.retry_backoff_min_ms);
  for (int i = 1; i < attempt && base < config.retry_backoff_max_ms; ++i) base *= 2;
  base = std::min(base, std::max<int64_t>(1, config.retry_backoff_max_ms));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(base) * jitter(rng)));
}

using steady = std::chrono::steady_clock;

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now().time_since_epoch()).count();
}
inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace kappa::client
