// libkappa consumer: manual assignment, seek, poll, pause/resume.
//
//   auto c = kappa::consumer::create(config).value();
//   c->assign({{"t", 0}});
//   c->seek_to_beginning({{"t", 0}});
//   for (...) { auto records = c->poll(100); ... }
//
// Fetches are pipelined: a background thread keeps one FetchStream open per
// assigned, unpaused partition (the broker sends the next chunk while the
// previous one travels and is decoded), reading from it while the partition
// has room in the prefetch buffer, so a single consumer can read at the
// speed of the replay path. Brokers without FetchStream get one unary Fetch
// in flight per broker instead. The prefetch buffer is bounded: about two
// partition_max_bytes chunks per partition and prefetch_bytes in all, plus
// at most one chunk per partition arriving. poll() decodes outside the
// consumer's lock, so fetching goes on while it does.
//
// Leader changes are followed transparently: a fetch answered with
// NOT_LEADER_OR_FOLLOWER (its leader hint is applied), LEADER_NOT_AVAILABLE
// or a transport failure is re-issued at the new leader from the next
// offset to fetch; no offset is returned twice or skipped.
//
// Thread safety: all methods are safe to call concurrently, but a consumer
// is meant to be driven by one thread (positions move with poll(); a second
// concurrent poll() waits for the first, up to its own timeout).
//
// Consumer groups: subscribe() joins group `group_id` and the group's
// coordinator assigns partitions (KIP-848 style, see proto/kappa/v1/
// group.proto). A background thread heartbeats (so processing time between
// polls never counts against the session timeout) and learns assignment
// changes; poll() applies them on the polling thread, in this order:
//   1. revoked partitions: with auto-commit their positions are committed,
//      then listener.on_revoked runs (commit there for commit-after-processing),
//      then the partitions stop fetching and are reported let go;
//   2. new partitions: their committed offsets are fetched (auto_offset_reset
//      applies where none is), then listener.on_assigned runs (it may seek),
//      then they start fetching.
// If the member was fenced or its session expired, its partitions are gone
// without a commit: listener.on_lost runs (default: on_revoked without the
// commit) and the consumer rejoins. Callbacks may call seek(), position(),
// commit_sync() and assignment() on the consumer they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kappa/client_config.h"
#include "kappa/error.h"
#include "kappa/types.h"

namespace kappa {

// Where to start when a partition has no position, or the position is out
// of the log's range.
enum class offset_reset {
  earliest,  // the log start
  latest,    // the high watermark (only records produced from now on)
  none,      // report the error from poll() (no_offset / offset_out_of_range)
};

struct consumer_config {
  client_config client;
  offset_reset auto_offset_reset = offset_reset::latest;
  // Long-poll of the unary Fetch fallback: the broker answers when
  // min_bytes are there or max_wait passed. (A FetchStream just waits.)
  int32_t fetch_max_wait_ms = 500;
  int32_t fetch_min_bytes = 1;
  // Per-response and per-partition byte limits (a whole batch always comes);
  // partition_max_bytes is also the size of one FetchStream message.
  int32_t fetch_max_bytes = 50 << 20;
  int32_t partition_max_bytes = 4 << 20;
  // Bytes fetched but not yet returned by poll(), all partitions together.
  // No new fetch is issued while it is exceeded.
  size_t prefetch_bytes = size_t{64} << 20;
  // poll() stops adding fetched chunks once it holds this many records
  // (chunks are returned whole, so it may exceed it by one chunk).
  size_t max_poll_records = 10000;
  // Verify each batch's CRC32C before decoding it.
  bool check_crcs = true;

  // Consumer groups (used by subscribe()).
  // Static membership: a stable id of this instance ("" = dynamic). A static
  // member that closes and comes back within session_timeout_ms gets its
  // partitions back without a rebalance.
  std::string group_instance_id;
  // "uniform" (sticky: keeps partitions where they are, spreads the rest
  // evenly) or "range" (per topic, contiguous ranges, like Kafka's).
  std::string group_assignor = "uniform";
  int32_t session_timeout_ms = 45000;
  // How long this member may take (its on_revoked) to let go of partitions.
  int32_t rebalance_timeout_ms = 60000;
  // Commit the positions of owned partitions every auto_commit_interval_ms
  // (from poll()), before revocations, and at close().
  bool enable_auto_commit = true;
  int64_t auto_commit_interval_ms = 5000;
  std::string client_id = "kappa";
};

class consumer;

// Assignment callbacks of a group member; each runs on the thread that
// called poll() (or close()/unsubscribe()). Empty functions are skipped.
struct rebalance_listener {
  std::function<void(consumer&, const std::vector<topic_partition>&)> on_revoked;
  std::function<void(consumer&, const std::vector<topic_partition>&)> on_assigned;
  // Partitions taken away without a chance to commit (fenced, session
  // expired). Default: on_revoked.
  std::function<void(consumer&, const std::vector<topic_partition>&)> on_lost;
};


struct consumed_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<header> headers;
};

class consumer {
 public:
  static Result<std::unique_ptr<consumer>> create(const consumer_config& config);
  ~consumer();  // closes
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  // Replaces the assignment. Partitions kept keep their positions; new ones
  // start without one (auto_offset_reset decides, or seek first). Fails
  // with invalid_argument while subscribed.
  Status assign(const std::vector<topic_partition>& partitions);

  // Joins group `group_id` subscribed to these topics (or to every topic
  // whose whole name matches `pattern`, ECMAScript syntax; topics created
  // later are picked up). Returns once the join was sent; partitions arrive
  // through poll(). Fails with invalid_argument after assign(), with an
  // empty group id, or while already subscribed to another group.
  // Calling it again with other topics changes the subscription.
  Status subscribe(const std::vector<std::string>& topics, const std::string& group_id,
                   rebalance_listener listener = {});
  Status subscribe_pattern(const std::string& pattern, const std::string& group_id,
                           rebalance_listener listener = {});
  // Leaves the group at once (its partitions are reassigned without waiting
  // for the session timeout), after a final auto-commit and on_revoked.
  Status unsubscribe();
  // The group member's id and epoch ("" and -1 when not in a group).
  std::string member_id() const;
  int32_t member_epoch() const;

  // Commits the current positions of every owned partition, or the given
  // offsets (the next offset to consume), and waits until the coordinator
  // has them committed (up to request_timeout_ms). Fails with
  // stale_member_epoch / unknown_member_id / fenced_member_epoch when this
  // member no longer owns what it commits (nothing is committed then).
  Status commit_sync();
  Status commit_sync(const std::map<topic_partition, int64_t>& offsets);
  // The same without waiting; `done` (if set) runs on a background thread
  // with the outcome. Commits complete in the order they were made.
  void commit_async(std::function<void(Status)> done = {});
  // The group's committed offsets of these partitions.
  Result<std::map<topic_partition, committed_offset>> committed(const std::vector<topic_partition>& partitions);
  std::vector<topic_partition> assignment() const;

  // Sets the next offset poll() returns for an assigned partition; drops
  // whatever was prefetched for it. Does not block.
  Status seek(const topic_partition& tp, int64_t offset);
  // These block for one ListOffsets round trip (up to request_timeout_ms).
  Status seek_to_beginning(const std::vector<topic_partition>& partitions);
  Status seek_to_end(const std::vector<topic_partition>& partitions);
  // First offset whose timestamp is >= timestamp_ms (the end if none is).
  Status seek_to_timestamp(const std::vector<topic_partition>& partitions, int64_t timestamp_ms);

  // The offset of the next record poll() will return for `tp`. Resolves a
  // missing position through auto_offset_reset (may block for ListOffsets).
  Result<int64_t> position(const topic_partition& tp);

  // Returns the records fetched so far, in offset order per partition,
  // skipping control batches and records below the position; waits up to
  // timeout_ms when there are none. An empty vector means nothing arrived.
  // An error (offset_out_of_range or no_offset under offset_reset::none,
  // corrupt_message, unknown_topic_or_partition...) is returned once, and
  // the partition stops fetching until seek() is called for it.
  Result<std::vector<consumed_record>> poll(int64_t timeout_ms);

  // Paused partitions are not fetched and poll() returns nothing for them;
  // their prefetched data is kept.
  Status pause(const std::vector<topic_partition>& partitions);
  Status resume(const std::vector<topic_partition>& partitions);
  std::vector<topic_partition> paused() const;

  // Bytes fetched but not yet taken by poll(), all partitions together
  // (what prefetch_bytes bounds).
  size_t prefetched_bytes() const;

  // Makes a poll() that is waiting return at once (from any thread).
  void wakeup();
  // Stops fetching, cancels in-flight fetches and waits for them to end
  // (promptly; at worst one ListOffsets or metadata round the fetcher is in).
  // A group member first commits (auto-commit), runs on_revoked and leaves
  // the group at once (a static member leaves for session_timeout_ms, so it
  // can come back to the same partitions).
  // Afterwards poll() fails with client_errc::closed. Idempotent.
  void close();

  struct impl;

 private:
  explicit consumer(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa
