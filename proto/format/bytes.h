// Byte spans and buffers shared by every module.
//
// byte_view is non-owning: the bytes it points at must outlive it (LevelDB's
// Slice rule). Whoever hands one out states in its contract what keeps the
// bytes alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kappa {

using byte_view = std::span<const uint8_t>;
using mutable_byte_view = std::span<uint8_t>;
using byte_buffer = std::vector<uint8_t>;

inline byte_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(byte_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace kappa
