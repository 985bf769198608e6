// The producer's internals: the accumulator (what to send), one sender
// thread (drains batches, builds them once, writes ProduceStream requests),
// and the produce streams' reader threads (responses: acknowledge, retry or
// fail). One mutex guards everything but the streams map, which only the
// sender thread touches.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/src/accumulator.h"
#include "client/src/metadata_cache.h"
#include "client/src/produce_stream.h"
#include "kappa/producer.h"

namespace kappa {

struct producer::impl {
  explicit impl(const producer_config& config);
  ~impl();

  void send(producer_record record, delivery_callback callback);
  Status flush(int64_t timeout_ms);
  Status close(int64_t timeout_ms);

 private:
  struct completion {
    delivery_callback callback;
    delivery_report report;
  };
  struct request_in_flight {
    uint64_t stream_id = 0;
    std::string address;  // the broker it went to
    int64_t sent_ms = 0;
    std::vector<std::unique_ptr<client::producer_batch>> batches;
  };

  // REQUIRES: mu_ held. Counted, so a wake-up that comes while the sender
  // works unlocked (building, writing) is not lost: it compares the count
  // before it sleeps.
  void wake_sender_locked() {
    ++sender_wakeups_;
    sender_cv_.notify_one();
  }
  void run_sender();
  void sender_round(std::unique_lock<std::mutex>& lock);
  // InitProducerId: a fresh id, or (bump) a new epoch for the current one.
  bool init_producer_id(bool bump);
  client::produce_stream* stream_for(const std::string& address);
  void on_response(uint64_t stream_id, client::v1::ProduceResponse& response);
  void on_broken(uint64_t stream_id, const std::string& why);
  // REQUIRES: mu_ held. Retries `batch` (after a backoff, or at once when
  // `rerouted`: a leader hint named the new leader) unless its deadline
  // passed or the producer stopped, in which case it fails with `status`.
  void retry_or_fail(std::unique_ptr<client::producer_batch> batch, const Status& status,
                     std::vector<completion>& done, bool rerouted = false);
  void fail_batch(client::producer_batch& batch, const Status& status, std::vector<completion>& done);
  void succeed_batch(client::producer_batch& batch, int64_t base_offset, int64_t log_append_time_ms,
                     std::vector<completion>& done);
  // Runs callbacks (no lock held), then marks the records reported.
  void finish(std::vector<completion>& done);

  const producer_config config_;
  const bool idempotent_;
  client::connection_pool pool_;
  client::metadata_cache metadata_;

  std::mutex mu_;
  std::condition_variable sender_cv_;
  std::condition_variable space_cv_;
  std::condition_variable done_cv_;
  client::accumulator accumulator_;
  bool closed_ = false;   // no more send()s
  bool stopped_ = false;  // the sender thread must exit
  int flushing_ = 0;
  uint64_t sender_wakeups_ = 0;
  size_t outstanding_ = 0;  // records sent and not yet reported
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int init_attempts_ = 0;
  int64_t init_retry_at_ms_ = 0;
  int64_t next_expiry_scan_ms_ = 0;  // no queued batch's deadline is earlier
  uint64_t next_correlation_id_ = 1;
  uint64_t next_stream_id_ = 1;
  std::map<uint64_t, request_in_flight> in_flight_;  // by correlation id; bounded by
                                                     // partitions x max_in_flight
  std::map<std::string, std::unique_ptr<client::produce_stream>> streams_;  // sender thread only
  std::thread sender_;
};

}  // namespace kappa
