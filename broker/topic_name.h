// Topic naming rules (Kafka's): 1..249 characters of [a-zA-Z0-9._-], not "."
// or "..". Names starting with "__" are internal (e.g. __consumer_offsets).
#pragma once

#include <string_view>

#include "proto/format/result.h"

namespace kappa::broker {

inline constexpr size_t kTopicNameBytesMax = 249;

// ok, or errc::invalid_topic with a message naming the rule broken.
Status validate_topic_name(std::string_view name);

bool is_internal_topic(std::string_view name);

}  // namespace kappa::broker
