// group_member: a consumer's membership of one consumer group (KIP-848
// style, see proto/kappa/v1/group.proto), without the partition handling,
// which poll() does (consumer_group_poll.cc).
//
// A heartbeat thread joins (member_epoch 0), then heartbeats every
// heartbeat_interval_ms the coordinator asked for, and at once whenever the
// subscription or the owned partitions change. Each answer's assignment is
// the member's target: poll() reads it (current()), revokes and adds
// partitions, and reports what it owns now (set_owned()). The heartbeat
// thread never waits on the application, so time between polls does not
// count against the session. FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID
// (the coordinator dropped the member) bumps the fence generation: every
// owned partition is lost, the member reports nothing owned and rejoins at
// once with epoch 0 under its old member id (so the coordinator drops the
// old membership at once) and takes the new id it is given. A commit that
// meets STALE_MEMBER_EPOCH because a heartbeat moved the epoch on meanwhile
// is resent with the new epoch (after an immediate heartbeat learns it).
//
// Commits (sync and async alike) go through one committer thread in the
// order they were made, carrying the member id and epoch current when each
// is sent. `on_change` is called (from the heartbeat thread, with no lock of
// the member held) when poll() has something to do: a new assignment, a
// fence, or an error to report.
//
// Thread-safe. The destructor stops both threads without leaving; leave()
// leaves first.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/src/group_rpc.h"
#include "kappa/consumer.h"

namespace kappa::client {

struct group_subscription {
  std::vector<std::string> topics;
  std::string pattern;  // set: subscribe by regular expression instead
};

class group_member {
 public:
  group_member(connection_pool& pool, metadata_cache& metadata, const consumer_config& config,
               std::string group_id, group_subscription subscription,
               std::function<void()> on_change);
  ~group_member();
  group_member(const group_member&) = delete;
  group_member& operator=(const group_member&) = delete;

  const std::string& group_id() const { return route_.group_id(); }
  // Sends the new subscription at once.
  void set_subscription(group_subscription subscription);

  // What poll() reconciles toward.
  struct view {
    uint64_t fence_generation = 0;  // bumped on each fence: all owned is lost
    bool has_assignment = false;    // false while (re)joining
    std::set<topic_partition> target;
  };
  view current() const;
  // The partitions the consumer owns now; heartbeats at once when they
  // changed. Ignored when `fence_generation` is not the current one (the
  // consumer has not yet let go of what the fence took).
  void set_owned(std::set<topic_partition> owned, uint64_t fence_generation);
  // A non-retriable heartbeat error not reported yet (reported once).
  std::optional<Status> take_error();

  std::string member_id() const;
  int32_t member_epoch() const;

  // Commits `offsets` (next offsets to consume) after every commit made
  // before it, and waits for the answer (at most until deadline_ms).
  Status commit(std::map<topic_partition, int64_t> offsets, int64_t deadline_ms);
  // The same without waiting; `done` runs on the committer thread.
  void commit_async(std::map<topic_partition, int64_t> offsets, std::function<void(Status)> done);
  // Waits until the commits queued so far are answered (or deadline_ms).
  void flush_commits(int64_t deadline_ms);
  Result<std::map<topic_partition, committed_offset>> fetch_offsets(
      const std::vector<topic_partition>& partitions, int64_t deadline_ms);

  // Stops heartbeating and leaves the group (epoch -1; -2 for a static
  // member, which keeps its assignment for its session timeout). Idempotent.
  Status leave(int64_t deadline_ms);

 private:
  struct queued_commit {
    std::map<topic_partition, int64_t> offsets;
    std::function<void(Status)> done;
    int64_t deadline_ms = 0;  // 0: request_timeout_ms from when it is sent
  };
  void run_heartbeats();
  void run_commits();
  // Stops the heartbeat thread (joins it).
  void stop_heartbeats();
  Status send_commit(const std::map<topic_partition, int64_t>& offsets, int64_t deadline_ms);

  const consumer_config config_;
  coordinator_route route_;
  const std::function<void()> on_change_;

  mutable std::mutex mu_;
  std::condition_variable heartbeat_cv_;
  std::condition_variable epoch_cv_;  // member_epoch_ changed
  group_subscription subscription_;
  std::string member_id_;
  int32_t member_epoch_ = 0;
  int32_t heartbeat_interval_ms_ = 1000;
  uint64_t fence_generation_ = 0;
  bool has_assignment_ = false;
  std::set<topic_partition> target_;
  std::set<topic_partition> owned_;
  std::optional<Status> error_;
  bool heartbeat_now_ = true;
  bool stop_heartbeats_ = false;
  bool left_ = false;
  std::thread heartbeat_thread_;

  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::deque<queued_commit> commits_;
  bool committing_ = false;  // one taken from the queue and in flight
  bool stop_commits_ = false;
  std::thread commit_thread_;
};

}  // namespace kappa::client
