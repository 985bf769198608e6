// partition_set algebra for the shard (declared in group_state.h).
#include <algorithm>
#include <iterator>

#include "broker/group/group_state.h"

namespace kappa::broker::group {

bool ps_empty(const partition_set& s) {
  for (const auto& [topic, parts] : s) {
    if (!parts.empty()) return false;
  }
  return true;
}

bool ps_contains(const partition_set& s, const std::string& topic, int32_t partition) {
  auto it = s.find(topic);
  return it != s.end() && it->second.count(partition) > 0;
}

void ps_normalize(partition_set& s) {
  for (auto it = s.begin(); it != s.end();) {
    if (it->second.empty()) {
      it = s.erase(it);
    } else {
      ++it;
    }
  }
}

partition_set ps_union(const partition_set& a, const partition_set& b) {
  partition_set out = a;
  for (const auto& [topic, parts] : b) out[topic].insert(parts.begin(), parts.end());
  ps_normalize(out);
  return out;
}

partition_set ps_minus(const partition_set& a, const partition_set& b) {
  partition_set out;
  for (const auto& [topic, parts] : a) {
    auto it = b.find(topic);
    if (it == b.end()) {
      if (!parts.empty()) out[topic] = parts;
      continue;
    }
    std::set<int32_t> rest;
    std::set_difference(parts.begin(), parts.end(), it->second.begin(), it->second.end(),
                        std::inserter(rest, rest.end()));
    if (!rest.empty()) out[topic] = std::move(rest);
  }
  return out;
}

partition_set ps_intersect(const partition_set& a, const partition_set& b) {
  partition_set out;
  for (const auto& [topic, parts] : a) {
    auto it = b.find(topic);
    if (it == b.end()) continue;
    std::set<int32_t> both;
    std::set_intersection(parts.begin(), parts.end(), it->second.begin(), it->second.end(),
                          std::inserter(both, both.end()));
    if (!both.empty()) out[topic] = std::move(both);
  }
  return out;
}

bool ps_subset(const partition_set& a, const partition_set& b) {
  return ps_empty(ps_minus(a, b));
}

size_t ps_size(const partition_set& s) {
  size_t n = 0;
  for (const auto& [topic, parts] : s) n += parts.size();
  return n;
}

partition_set ps_from_proto(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& in) {
  partition_set s;
  for (const auto& t : in) {
    for (int32_t p : t.partitions()) s[t.topic()].insert(p);
  }
  ps_normalize(s);
  return s;
}

void ps_to_proto(const partition_set& s,
                 google::protobuf::RepeatedPtrField<v1::TopicPartitions>* out) {
  for (const auto& [topic, parts] : s) {
    if (parts.empty()) continue;
    auto* t = out->Add();
    t->set_topic(topic);
    for (int32_t p : parts) t->add_partitions(p);
  }
}

}  // namespace kappa::broker::group
