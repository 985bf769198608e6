// Millisecond clocks of the broker: steady (timeouts, sessions, caches) and
// wall (commit timestamps, retention). Header-only, no state.
#pragma once

#include <chrono>
#include <cstdint>

namespace kappa::broker {

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kappa::broker
