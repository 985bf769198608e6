// What the client knows of the cluster: brokers, and per topic its
// partitions' leaders. Filled by Metadata RPCs, corrected in between by the
// leader hints that NOT_LEADER_OR_FOLLOWER answers carry.
//
// Leadership follows the brokers' Raft terms (the leader epoch): a hint with
// a newer epoch than the cached one re-routes its partition at once, with no
// Metadata round trip; a periodic refresh does not undo it with an older
// epoch from a lagging broker. A partition whose leader failed without a
// usable hint (LEADER_NOT_AVAILABLE, a dead broker...) is marked stale: it
// has no leader until the next refresh, which background threads trigger
// through maybe_refresh() (at most one per retry_backoff_min_ms, so a storm
// of errors is one RPC). Every metadata_max_age_ms the tracked topics are
// refreshed anyway.
//
// Bootstrap: several addresses may be given; each refresh tries the broker
// that answered last, the known brokers, then the bootstrap list, in turn.
// One dead address costs at most connect_timeout_ms.
//
// Thread-safe. refresh()/ensure()/maybe_refresh() may block for RPCs;
// lookups and the hint/invalidate calls never do.
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
  // Returns once `topic` has a partition count (and tracks it), or fails at
  // deadline_ms (steady clock) with the last error. Blocks (refreshing
  // with backoff) only while the topic is unknown: stale or old leaders of
  // a known topic are left to maybe_refresh().
  Status ensure(const std::string& topic, int64_t deadline_ms);
  // Refreshes (tracking `topics` too) when a tracked topic is missing, a
  // partition is stale or leaderless, or a refresh was requested, and the
  // last refresh is at least retry_backoff_min_ms old; or when it is
  // metadata_max_age_ms old. Used by background threads; errors are left
  // for the next attempt. Returns true when it asked.
  bool maybe_refresh(const std::vector<std::string>& topics = {});
  // Asks the next maybe_refresh() to refresh without forgetting any leader
  // (the leader answered, but with a hint of trouble: NOT_ENOUGH_REPLICAS,
  // REQUEST_TIMED_OUT).
  void request_refresh();

  std::optional<int32_t> partition_count(const std::string& topic) const;
  // The leader's address, if known and not stale.
  std::optional<std::string> leader(const std::string& topic, int32_t partition) const;
  int32_t leader_epoch(const std::string& topic, int32_t partition) const;
  // Every partition of the topic / one partition: no leader until refreshed.
  void invalidate(const std::string& topic);
  void invalidate(const std::string& topic, int32_t partition);
  // `from` answered NOT_LEADER_OR_FOLLOWER for the partition with `hint`.
  // Applies the hint when it names a usable leader address with a newer
  // epoch than the cached one; otherwise marks the partition stale, unless
  // the cache already routes it away from `from` (an answer overtaken by an
  // earlier hint). True when the partition now has a leader other than
  // `from`: the caller may retry at once.
  bool not_leader(const std::string& topic, int32_t partition, const std::string& from,
                  const v1::LeaderHint& hint);
  // Addresses to try for cluster-wide requests: the broker that answered
  // last, known brokers, then bootstrap.
  std::vector<std::string> any_brokers() const;

 private:
  struct partition_info {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
    // From a hint: the leader's address when its id is not (yet) among the
    // known brokers.
    std::string address;
    bool stale = false;
  };
  struct topic_info {
    std::vector<partition_info> partitions;
    int64_t fetched_ms = 0;
  };
  // REQUIRES: mu_ held.
  std::optional<std::string> address_of_locked(const partition_info& p) const;

  connection_pool& pool_;
  mutable std::mutex mu_;
  std::map<int32_t, std::string> brokers_;
  std::map<std::string, topic_info> topics_;
  std::set<std::string> tracked_;  // topics asked for; refreshed together
  int64_t last_refresh_ms_ = 0;
  bool refresh_requested_ = false;
  int refreshing_ = 0;  // refresh() calls under way
  // The address that answered last; used when a leader's own address is
  // unusable (a wildcard listen address).
  std::string last_answered_;
};

}  // namespace kappa::client
