// What the client knows of the cluster: brokers, and per topic its
// partitions' leaders. Filled by Metadata RPCs; a request that meets
// NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION or a transport failure
// invalidates the topic, and the next lookup refreshes it (no more often
// than retry_backoff_min_ms apart, so a storm of errors is one RPC).
//
// Thread-safe. refresh()/ensure() block for RPCs; lookups never do.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/src/connection_pool.h"

namespace kappa::client {

class metadata_cache {
 public:
  explicit metadata_cache(connection_pool& pool) : pool_(pool) {}

  // One Metadata RPC for `topics` (plus the ones already tracked), tried on
  // each known broker until one answers. Stores what it learns.
  Status refresh(const std::vector<std::string>& topics);
  // Returns once `topic` has a partition count (refreshing with backoff
  // while it is missing, invalidated, unknown or stale), or fails at
  // deadline_ms (steady clock) with the last error.
  Status ensure(const std::string& topic, int64_t deadline_ms);
  // Refreshes the invalidated topics if the last refresh is old enough. Used
  // by background threads; errors are left for the next attempt.
  void maybe_refresh();

  std::optional<int32_t> partition_count(const std::string& topic) const;
  // The leader's address, if known.
  std::optional<std::string> leader(const std::string& topic, int32_t partition) const;
  int32_t leader_epoch(const std::string& topic, int32_t partition) const;
  void invalidate(const std::string& topic);
  // Addresses to try for cluster-wide requests: known brokers, then bootstrap.
  std::vector<std::string> any_brokers() const;

 private:
  struct partition_info {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
  };
  struct topic_info {
    std::vector<partition_info> partitions;
    int64_t fetched_ms = 0;
    bool stale = false;
  };

  connection_pool& pool_;
  mutable std::mutex mu_;
  std::map<int32_t, std::string> brokers_;
  std::map<std::string, topic_info> topics_;
  std::set<std::string> tracked_;  // topics asked for; refreshed together
  int64_t last_refresh_ms_ = 0;
  // The address that answered last; used when a leader's own address is
  // unusable (a wildcard listen address).
  std::string last_answered_;
};

}  // namespace kappa::client
