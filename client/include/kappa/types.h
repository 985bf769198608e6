// Small value types shared by the producer, consumer and admin APIs.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace kappa {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

struct topic_partition_hash {
  size_t operator()(const topic_partition& tp) const {
    return std::hash<std::string>()(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  }
};

// A record header: a key and an optional (nullable) value.
struct header {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const header&) const = default;
};

// A consumer group's committed offset of one partition.
struct committed_offset {
  int64_t offset = -1;  // the next offset to consume; -1: nothing committed
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
};

// Special timestamps for ListOffsets (as Kafka's).
inline constexpr int64_t kEarliestOffsetSpec = -2;
inline constexpr int64_t kLatestOffsetSpec = -1;

}  // namespace kappa
