// Topic naming rules (Kafka's): 1..249 characters of [a-zA-Z0-9._-], not "."
// or "..". Names starting with "__" are internal (e.g. __consumer_offsets).
// Reserved names belong to the broker: it creates them itself (the group
// coordinator's __consumer_offsets) and clients may not create, delete or
// produce to them (they may read them).
#pragma once

#include <string_view>

#include "proto/format/result.h"

namespace kappa::broker {

inline constexpr size_t kTopicNameBytesMax = 249;

// ok, or errc::invalid_topic with a message naming the rule broken.
Status validate_topic_name(std::string_view name);

bool is_internal_topic(std::string_view name);

// The consumer groups' internal topic (broker/group/coordinator.h).
inline constexpr std::string_view kConsumerOffsetsTopic = "__consumer_offsets";

bool is_reserved_topic(std::string_view name);
// ok, or errc::invalid_topic saying the topic is written by the broker only.
Status check_client_may_write(std::string_view name);

}  // namespace kappa::broker
