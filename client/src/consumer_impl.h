// The consumer's internals: per-partition positions and prefetched chunks,
// a fetcher thread that keeps one asynchronous Fetch in flight per broker,
// and poll() that decodes chunks on the application's thread.
//
// The fetcher drives its own grpc::CompletionQueue (the classic async API)
// rather than gRPC's callback API: completions then run on a thread we own
// and join, and the consumer does not depend on gRPC 1.51's shared
// callback-CQ threads (which ASan caught double-freeing at teardown).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <grpcpp/alarm.h>

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
  // One asynchronous Fetch; its address is the completion queue tag. Owned
  // by the fetcher thread, deleted when its completion is handled.
  struct fetch_call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<client::v1::FetchResponse>> reader;
    grpc::Status status;
    client::v1::FetchRequest request;
    client::v1::FetchResponse response;
    std::string address;
    std::map<topic_partition, uint64_t> epochs;  // as issued, to drop answers a seek overtook
  };

  const consumer_config config_;
  client::connection_pool pool_;
  client::metadata_cache metadata_;

  mutable std::mutex mu_;
  std::condition_variable data_cv_;   // wakes poll()
  grpc::CompletionQueue cq_;          // the fetcher's: fetch completions and wake-ups
  grpc::Alarm wake_alarm_;            // set to wake the fetcher out of cq_
  bool wake_pending_ = false;
  bool cq_closing_ = false;
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
  // Waits on cq_ until deadline (or a wake-up) and handles what arrived.
  void handle_events(std::chrono::system_clock::time_point deadline);
  void handle_tag(void* tag);
  // Wakes the fetcher at once. REQUIRES: mu_ held.
  void wake_fetcher();
  // REQUIRES: mu_ held.
  void drop_buffered(partition_state& s);
  void set_reset(partition_state& s);
  Status seek_with_spec(const std::vector<topic_partition>& tps, int64_t spec);
};

}  // namespace kappa
