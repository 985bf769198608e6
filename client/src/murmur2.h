// Kafka's default partitioner for keyed records, bit for bit, so a key lands
// on the same partition as with any Kafka client: murmur2 (seed 0x9747b28c,
// as org.apache.kafka.common.utils.Utils.murmur2) over the key bytes, then
// toPositive (& 0x7fffffff), modulo the partition count.
#pragma once

#include <cstdint>
#include <string_view>

namespace kappa::client {

uint32_t murmur2(std::string_view key);

// REQUIRES: partition_count > 0.
int32_t key_partition(std::string_view key, int32_t partition_count);

}  // namespace kappa::client
