// Big-endian loads and stores of fixed-width integers at a byte pointer.
// REQUIRES: the pointer addresses at least sizeof(T) bytes. No alignment is
// needed (memcpy), so these are safe at any byte offset of a batch.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace kappa::format {

namespace detail {
inline uint8_t bswap(uint8_t v) {
  return v;
}
inline uint16_t bswap(uint16_t v) {
  return __builtin_bswap16(v);
}
inline uint32_t bswap(uint32_t v) {
  return __builtin_bswap32(v);
}
inline uint64_t bswap(uint64_t v) {
  return __builtin_bswap64(v);
}
}  // namespace detail

template <typename T>
inline T load_be(const uint8_t* p) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U u;
  std::memcpy(&u, p, sizeof(U));
  if constexpr (std::endian::native == std::endian::little) u = detail::bswap(u);
  return static_cast<T>(u);
}

template <typename T>
inline void store_be(uint8_t* p, T v) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  if constexpr (std::endian::native == std::endian::little) u = detail::bswap(u);
  std::memcpy(p, &u, sizeof(U));
}

}  // namespace kappa::format
