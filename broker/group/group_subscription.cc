// Subscriptions: topic names or an ECMAScript pattern matched against whole
// topic names; internal topics ("__" prefix) never match a pattern.
#include <functional>

#include "broker/group/group_state.h"

namespace kappa::broker::group {
namespace {

bool internal_topic(const std::string& topic) {
  return topic.rfind("__", 0) == 0;
}

const std::regex* pattern_of(member_state& m) {
  if (m.subscribed_pattern.empty()) return nullptr;
  // After replay the pattern is compiled on first use; it compiled when the
  // member subscribed, so a failure here means nothing matches.
  if (!m.pattern) m.pattern = compile_pattern(m.subscribed_pattern);
  return m.pattern.get();
}

}  // namespace

std::shared_ptr<const std::regex> compile_pattern(const std::string& pattern) {
  try {
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return nullptr;
  }
}

std::set<std::string> resolve_subscription(member_state& m, const topics_view& view) {
  std::set<std::string> out;
  for (const auto& t : m.subscribed_topics) {
    if (view.partitions.count(t) > 0) out.insert(t);
  }
  if (const std::regex* re = pattern_of(m)) {
    for (const auto& [topic, count] : view.partitions) {
      if (!internal_topic(topic) && std::regex_match(topic, *re)) out.insert(topic);
    }
  }
  return out;
}

bool subscribes_to(member_state& m, const std::string& topic) {
  for (const auto& t : m.subscribed_topics) {
    if (t == topic) return true;
  }
  const std::regex* re = pattern_of(m);
  return re != nullptr && !internal_topic(topic) && std::regex_match(topic, *re);
}

uint64_t topics_fingerprint(const topics_view& view) {
  // FNV-1a over names and counts; never 0 (0 means "not checked").
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](uint64_t x) {
    h ^= x;
    h *= 1099511628211ULL;
  };
  for (const auto& [topic, count] : view.partitions) {
    for (unsigned char c : topic) mix(c);
    mix(0x100);
    mix(static_cast<uint32_t>(count));
  }
  return h == 0 ? 1 : h;
}

}  // namespace kappa::broker::group
