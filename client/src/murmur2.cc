#include "client/src/murmur2.h"

#include "proto/format/assert.h"

namespace kappa::client {

uint32_t murmur2(std::string_view key) {
  // Java does this in int arithmetic; uint32_t gives the same bits with
  // defined overflow. Kafka reads the 4-byte blocks little-endian and the
  // tail bytes as (signed byte & 0xff), i.e. as unsigned bytes.
  constexpr uint32_t seed = 0x9747b28c;
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const size_t length = key.size();
  uint32_t h = seed ^ static_cast<uint32_t>(length);
  const size_t blocks = length / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* p = data + i * 4;
    uint32_t k = uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
                 (uint32_t{p[3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = data + blocks * 4;
  switch (length % 4) {
    case 3: h ^= uint32_t{tail[2]} << 16; [[fallthrough]];
    case 2: h ^= uint32_t{tail[1]} << 8; [[fallthrough]];
    case 1: h ^= uint32_t{tail[0]}; h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

int32_t key_partition(std::string_view key, int32_t partition_count) {
  KAPPA_ASSERT(partition_count > 0);
  return static_cast<int32_t>((murmur2(key) & 0x7fffffffu) % static_cast<uint32_t>(partition_count));
}

}  // namespace kappa::client
