// The consumer's internals: per-partition positions and prefetched chunks,
// a fetcher thread that keeps one asynchronous Fetch in flight per broker,
// and poll() that decodes chunks on the application's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "client/src/metadata_cache.h"
#include "kappa/consumer.h"

namespace kappa {

struct consumer::impl {
  explicit impl(const consumer_config& config);
  ~impl();
  // Stops the fetcher, cancels and waits out in-flight fetches. Idempotent.
  void shutdown();

  struct partition_state {
    int64_t position = -1;      // next offset poll() returns; -1 = unknown
    int64_t fetch_offset = -1;  // next offset to fetch (ahead of position by the prefetch)
    std::optional<int64_t> reset_spec;  // ListOffsets spec to resolve a missing position
    uint64_t epoch = 0;         // bumped by seek: answers to older fetches are dropped
    bool paused = false;
    bool fetching = false;
    bool blocked = false;       // an error was reported; waits for seek()
    std::optional<Status> error;
    std::deque<std::string> chunks;  // whole batches, in offset order
    size_t buffered_bytes = 0;
    int64_t backoff_until_ms = 0;
    int attempts = 0;
  };
  // One asynchronous Fetch; owned by its completion callback.
  struct fetch_call {
    grpc::ClientContext context;
    client::v1::FetchRequest request;
    client::v1::FetchResponse response;
    std::string address;
    std::map<topic_partition, uint64_t> epochs;  // as issued, to drop answers a seek overtook
  };

  const consumer_config config_;
  client::connection_pool pool_;
  client::metadata_cache metadata_;

  mutable std::mutex mu_;
  std::condition_variable fetch_cv_;  // wakes the fetcher
  std::condition_variable data_cv_;   // wakes poll()
  std::condition_variable idle_cv_;   // close() waits for fetches to end
  std::map<topic_partition, partition_state> parts_;
  size_t buffered_total_ = 0;
  std::set<std::string> busy_;        // brokers with a fetch in flight
  std::set<fetch_call*> calls_;       // in flight, to cancel at close
  bool closed_ = false;
  bool woken_ = false;
  size_t poll_start_ = 0;             // round-robin start for fairness
  std::thread fetcher_;

  void run_fetcher();
  void resolve_resets(std::unique_lock<std::mutex>& lock);
  void issue_fetches(std::unique_lock<std::mutex>& lock);
  void on_fetch_done(fetch_call* call, const grpc::Status& status);
  // REQUIRES: mu_ held.
  void drop_buffered(partition_state& s);
  void set_reset(partition_state& s);
  Status seek_with_spec(const std::vector<topic_partition>& tps, int64_t spec);
};

}  // namespace kappa
