// hosted_shard: one group_shard hosted for one __consumer_offsets partition
// this broker leads (at one leader epoch), with its strand, its loading by
// replay and its append pipeline. Private to the coordinator
// (coordinator.cc); the contract is in coordinator.h.
//
// Lifecycle: loading (waiting for the high watermark to reach the log end,
// then replaying) -> ready -> (append failure: loading again) ... ->
// stopped (leadership lost, broker stopping). Everything runs on the
// strand; ready()/stopped() are cheap atomic views for routing.
//
// Thread safety: public methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "broker/group/group_shard.h"
#include "broker/runtime.h"

namespace kappa::broker {
class partition;
class partition_manager;
}  // namespace kappa::broker

namespace kappa::broker::group {

// How a call ends: `reply` sends the response computed by the shard;
// `fail` answers with an error instead (the shard is gone or an append
// failed). Exactly one of them runs, once.
struct completion {
  std::function<void()> reply;
  std::function<void(v1::ErrorCode, const std::string&)> fail;
};

// A call on the shard: computes its response (kept by the returned
// completion) and fills `out` with the records to append.
using shard_call = std::function<completion(group_shard&, records& out)>;

inline constexpr int64_t kAppendTimeoutMs = 15000;
inline constexpr size_t kBatchRecordBytesMax = size_t{512} << 10;  // payload per built batch

class hosted_shard : public std::enable_shared_from_this<hosted_shard> {
 public:
  hosted_shard(partition_manager& pm, std::shared_ptr<partition> part, int32_t index,
               int32_t epoch, shard_options options);

  int32_t index() const { return index_; }
  int32_t epoch() const { return epoch_; }
  const partition* part() const { return part_.get(); }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Begins loading (on the strand).
  void start();
  // Drops the shard: pending and later calls fail with NOT_COORDINATOR.
  void stop();

  // Runs `call` on the strand once loaded; before that (or after stop) its
  // `fail` path runs with COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR.
  // `not_ready` builds the completion's failure when the call never reaches
  // the shard.
  void run(shard_call call, std::function<void(v1::ErrorCode, const std::string&)> not_ready);

  // tick() on the strand when loaded; its records are appended.
  void tick(std::shared_ptr<const topics_view> topics);

 private:
  struct pending_append {
    uint64_t seq = 0;
    bool done = false;
    std::vector<completion> waiters;
  };

  void load_step();
  void schedule_load(int delay_ms);
  Status replay_all(int64_t high_watermark);
  void append(records out, std::vector<completion> waiters);
  void on_appended(uint64_t generation, uint64_t seq, const Status& st);
  void fail_pending(v1::ErrorCode code, const std::string& message);
  void rebuild(const std::string& why);

  partition_manager& pm_;
  const std::shared_ptr<partition> part_;
  const int32_t index_;
  const int32_t epoch_;
  const shard_options options_;
  strand_t strand_;
  asio::steady_timer load_timer_;

  std::atomic<bool> ready_{false};
  std::atomic<bool> stopped_{false};

  // Strand-only.
  std::unique_ptr<group_shard> shard_;
  uint64_t generation_ = 0;  // bumped at each rebuild: older append callbacks are ignored
  uint64_t next_seq_ = 1;
  std::deque<pending_append> pending_;
};

}  // namespace kappa::broker::group
