// plan(): a command -> the records that carry it out (controller leader only).
#include <algorithm>
#include <set>
#include <string>
#include <type_traits>

#include "replication/controller/errc.h"
#include "replication/controller/metadata_image.h"

namespace kappa::controller {
namespace {

// One topic may not hold more than this many partitions: each one is a Raft
// group on every replica.
constexpr int32_t kPartitionsMax = 10000;

using records = std::vector<metadata_record>;

std::string pname(const std::string& topic, int32_t partition) {
  return topic + "-" + std::to_string(partition);
}

// Kafka's rack-unaware assignment (AdminUtils.assignReplicasToBrokers) with a
// deterministic start instead of a random one: partition p's first replica is
// live[(start + p) % n]; the others follow it at a shift that grows each time
// p wraps around the brokers, so follower pairs spread too. `start` rotates
// with the partitions already placed, so consecutive single-partition topics
// land their leaders on different brokers.
std::vector<partition_info> place(const std::vector<int32_t>& live, int32_t partitions, int32_t rf,
                                  size_t start) {
  const size_t n = live.size();
  std::vector<partition_info> out(static_cast<size_t>(partitions));
  for (size_t p = 0; p < out.size(); ++p) {
    const size_t first = (start + p) % n;
    auto& r = out[p].replicas;
    r.push_back(live[first]);
    if (rf > 1) {
      const size_t shift = (start + p / n) % (n - 1);
      for (size_t j = 0; j + 1 < static_cast<size_t>(rf); ++j) {
        r.push_back(live[(first + 1 + (shift + j) % (n - 1)) % n]);
      }
    }
  }
  return out;
}

Result<records> plan_one(const metadata_image& img, const create_topic_command& c,
                         const std::vector<int32_t>& live) {
  if (c.name.empty()) return error(errc::invalid_request, "create topic: empty name");
  if (img.topics.count(c.name)) {
    return error(errc::topic_already_exists, "topic " + c.name + " already exists");
  }
  if (c.partitions < 1 || c.partitions > kPartitionsMax) {
    return error(errc::invalid_partitions, "topic " + c.name + ": partitions must be 1.." +
                                               std::to_string(kPartitionsMax) + ", not " +
                                               std::to_string(c.partitions));
  }
  if (c.replication_factor < 1) {
    return error(errc::invalid_replication_factor, "topic " + c.name +
                                                       ": replication factor must be >= 1, not " +
                                                       std::to_string(c.replication_factor));
  }
  if (static_cast<size_t>(c.replication_factor) > live.size()) {
    return error(errc::invalid_replication_factor,
                 "topic " + c.name + ": replication factor " +
                     std::to_string(c.replication_factor) + " is larger than the " +
                     std::to_string(live.size()) + " live broker(s)");
  }
  size_t placed = 0;
  for (const auto& [_, t] : img.topics) placed += t.partitions.size();
  topic_info t;
  t.name = c.name;
  t.id = img.next_topic_id;
  t.partitions = place(live, c.partitions, c.replication_factor, placed % live.size());
  t.configs = c.configs;
  return records{create_topic_record{std::move(t)}};
}

Result<records> plan_one(const metadata_image& img, const delete_topic_command& c,
                         const std::vector<int32_t>&) {
  if (!img.topics.count(c.name)) {
    return error(errc::unknown_topic_or_partition, "unknown topic " + c.name);
  }
  return records{delete_topic_record{c.name}};
}

Result<records> plan_one(const metadata_image& img, const alter_configs_command& c,
                         const std::vector<int32_t>&) {
  if (!img.topics.count(c.name)) {
    return error(errc::unknown_topic_or_partition, "unknown topic " + c.name);
  }
  return records{set_configs_record{c.name, c.configs}};
}

Result<const partition_info*> find_partition(const metadata_image& img, const std::string& topic,
                                             int32_t partition) {
  auto it = img.topics.find(topic);
  if (it == img.topics.end() || partition < 0 ||
      static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return error(errc::unknown_topic_or_partition,
                 "unknown topic or partition " + pname(topic, partition));
  }
  return &it->second.partitions[static_cast<size_t>(partition)];
}

Result<records> plan_one(const metadata_image& img, const reassign_command& c,
                         const std::vector<int32_t>&) {
  KAPPA_ASSIGN_OR_RETURN(const partition_info* p, find_partition(img, c.topic, c.partition));
  if (c.replicas.empty()) {
    return error(errc::invalid_request,
                 "reassign " + pname(c.topic, c.partition) + ": empty replica set");
  }
  std::set<int32_t> seen;
  for (int32_t id : c.replicas) {
    if (!seen.insert(id).second) {
      return error(errc::invalid_request, "reassign " + pname(c.topic, c.partition) + ": broker " +
                                              std::to_string(id) + " twice");
    }
    if (!img.brokers.count(id)) {
      return error(errc::invalid_request, "reassign " + pname(c.topic, c.partition) +
                                              ": unknown broker " + std::to_string(id));
    }
  }
  if (!p->target.empty()) {
    return error(errc::reassignment_in_progress,
                 "reassign " + pname(c.topic, c.partition) + ": a reassignment is running");
  }
  if (c.replicas == p->replicas) return records{};  // already there
  partition_info next = *p;
  next.target = c.replicas;
  return records{set_partition_record{c.topic, c.partition, std::move(next)}};
}

Result<records> plan_one(const metadata_image& img, const complete_reassign_command& c,
                         const std::vector<int32_t>&) {
  KAPPA_ASSIGN_OR_RETURN(const partition_info* p, find_partition(img, c.topic, c.partition));
  // A retried completion after the first one committed is done already.
  if (p->target.empty() && p->replicas == c.replicas) return records{};
  if (p->target.empty() || p->target != c.replicas) {
    return error(errc::invalid_request, "complete reassign " + pname(c.topic, c.partition) +
                                            ": replicas are not the reassignment target");
  }
  return records{set_partition_record{c.topic, c.partition, partition_info{c.replicas, {}}}};
}

Result<records> plan_one(const metadata_image& img, const register_broker_command& c,
                         const std::vector<int32_t>&) {
  if (c.broker.id <= 0) {
    return error(errc::invalid_request,
                 "register broker: id must be > 0, not " + std::to_string(c.broker.id));
  }
  auto it = img.brokers.find(c.broker.id);
  if (it != img.brokers.end() && it->second == c.broker) return records{};
  return records{register_broker_record{c.broker}};
}

Result<records> plan_one(const metadata_image& img, const allocate_producer_ids_command& c,
                         const std::vector<int32_t>&) {
  // Bounded so that a bad caller cannot exhaust the id space in a few calls.
  if (c.count < 1 || c.count > 1'000'000) {
    return error(errc::invalid_request,
                 "allocate producer ids: count must be 1..1000000, not " + std::to_string(c.count));
  }
  return records{producer_ids_record{img.next_producer_id, c.count}};
}

}  // namespace

Result<std::vector<metadata_record>> plan(const metadata_image& image, const command& cmd,
                                          const std::vector<int32_t>& live) {
  std::vector<int32_t> sorted = live;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return std::visit([&](const auto& c) { return plan_one(image, c, sorted); }, cmd);
}

}  // namespace kappa::controller
