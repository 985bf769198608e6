// Partition assignors of consumer groups: given the members' subscriptions
// and current assignments and the partition counts of the subscribed
// topics, the target assignment (member id -> partitions).
//
// Contract (both assignors):
// - deterministic: the same input gives the same output (members are
//   considered in member-id order, topics and partitions in order);
// - every partition of a topic that at least one member subscribes to is
//   assigned to exactly one member subscribed to that topic; no member gets a
//   partition of a topic it does not subscribe to;
// - a member with nothing to get still appears in the result (empty set).
//
// range: per topic, the topic's subscribers in member-id order get
//   contiguous ranges; the first (partitions % subscribers) get one more
//   (Kafka's RangeAssignor).
// uniform: sticky and balanced (Kafka's UniformAssignor): the partition
//   counts of any two members differ by at most one when they share a
//   subscription (heterogeneous subscriptions: as balanced as the
//   subscriptions allow), and a partition stays with its current owner unless
//   balance requires moving it, so a join or leave moves the fewest
//   partitions.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kappa::broker::group {

// topic -> partitions, ordered.
using partition_set = std::map<std::string, std::set<int32_t>>;

struct assignor_member {
  std::string member_id;
  std::set<std::string> topics;  // the subscription, resolved to existing topic names
  partition_set current;          // what it owns or is being assigned now
};

// Returns member id -> target partitions.
std::map<std::string, partition_set> assign_range(const std::vector<assignor_member>& members,
                                                  const std::map<std::string, int32_t>& partition_counts);
std::map<std::string, partition_set> assign_uniform(const std::vector<assignor_member>& members,
                                                    const std::map<std::string, int32_t>& partition_counts);

// "range" or "uniform"; false for any other name.
bool known_assignor(const std::string& name);
std::map<std::string, partition_set> assign(const std::string& assignor, const std::vector<assignor_member>& members,
                                            const std::map<std::string, int32_t>& partition_counts);

}  // namespace kappa::broker::group
