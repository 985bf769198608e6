// The consumer's internals: per-partition positions and prefetched chunks,
// a fetcher thread that keeps one asynchronous Fetch in flight per broker,
// and poll() that decodes chunks on the application's thread, outside mu_.
//
// The fetcher drives its own grpc::CompletionQueue (the classic async API)
// rather than gRPC's callback API: completions then run on a thread we own
// and join, and the consumer does not depend on gRPC 1.51's shared
// callback-CQ threads (which ASan caught double-freeing at teardown).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/alarm.h>

#include "client/src/metadata_cache.h"

namespace kappa::client {
class group_member;
}
#include "kappa/consumer.h"

namespace kappa {

struct consumer::impl {
  explicit impl(const consumer_config& config);
  ~impl();
  // Stops the fetcher, cancels and waits out in-flight fetches. Idempotent.
  void shutdown();

  struct fetch_stream;
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
    // The end of the fetched data (-1: none yet). A fetch at or below it
    // that a broker calls out of range above its high watermark is a new
    // leader that has not caught up on its commit index yet, not a gap.
    int64_t data_end = -1;
    int64_t out_of_range_since_ms = -1;
    fetch_stream* stream = nullptr;  // the partition's live FetchStream, if any
    // A group partition just assigned: not fetched (nor its position
    // resolved) until listener.on_assigned returned, as consumer.h promises.
    bool held = false;
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

  // One FetchStream tailing one partition: the broker sends the next chunk
  // as soon as the previous one is on the wire, so reading, transport and
  // decoding overlap (a unary Fetch leaves the broker idle while the answer
  // travels and the next request comes). At most one operation (start,
  // read, finish) is outstanding at a time; its address is the tag. A read
  // is only issued while the partition has room in the prefetch buffer, so
  // HTTP/2 flow control stops the broker, which holds at most one message.
  struct fetch_stream {
    enum class op { none, start, read, finish };
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<client::v1::FetchStreamResponse>> reader;
    client::v1::FetchStreamResponse message;
    grpc::Status status;
    topic_partition tp;
    std::string address;
    uint64_t epoch = 0;
    op pending = op::none;
    bool detached = false;  // no longer its partition's stream: finish and drop
  };

  const consumer_config config_;
  client::connection_pool pool_;
  client::metadata_cache metadata_;

  std::timed_mutex poll_mu_;          // held for a whole poll(); taken before mu_
  mutable std::mutex mu_;
  std::condition_variable data_cv_;   // wakes poll()
  grpc::CompletionQueue cq_;          // the fetcher's: fetch completions and wake-ups
  grpc::Alarm wake_alarm_;            // set to wake the fetcher out of cq_
  bool wake_pending_ = false;
  bool cq_closing_ = false;
  std::map<topic_partition, partition_state> parts_;
  size_t buffered_total_ = 0;
  // Buffers of decoded chunks, handed to a stream's next read so protobuf
  // parses into memory that is already mapped: a fresh partition_max_bytes
  // string per message cost a page fault per 4 KiB in replay profiles.
  // At most kSpareChunks, each at most 2 * partition_max_bytes of capacity.
  static constexpr size_t kSpareChunks = 4;
  std::vector<std::string> spare_chunks_;
  std::set<std::string> busy_;        // brokers with a fetch in flight
  std::set<fetch_call*> calls_;       // in flight, to cancel at close
  std::set<fetch_stream*> streams_;   // open, live or detached; deleted after Finish
  std::set<std::string> no_stream_;   // brokers that answered FetchStream with UNIMPLEMENTED
  bool closed_ = false;
  bool woken_ = false;
  size_t poll_start_ = 0;             // round-robin start for fairness
  std::thread fetcher_;

  // poll()'s work, split so that decoding runs without mu_: take_chunks
  // pops whole chunks (round-robin, about max_poll_records' worth) under mu_;
  // decode_taken decodes one partition's into `out` without it;
  // apply_decoded moves positions under mu_, dropping what a seek or
  // unassign overtook meanwhile.
  struct taken_chunks {
    topic_partition tp;
    uint64_t epoch = 0;
    int64_t position = 0;  // at take time
    std::vector<std::string> chunks;
    size_t declared_records = 0;  // an upper bound on what they decode to
    size_t out_begin = 0, out_end = 0;  // its records in `out`
    int64_t next_position = 0;
    std::optional<Status> error;
  };
  // REQUIRES: mu_ held.
  std::vector<taken_chunks> take_chunks();
  void decode_taken(taken_chunks& t, std::vector<consumed_record>& out) const;
  // REQUIRES: mu_ held.
  // Also keeps a few decoded chunks' buffers as spares for the streams.
  void apply_decoded(std::vector<taken_chunks>& taken, std::vector<consumed_record>& out);

  void run_fetcher();
  void resolve_resets(std::unique_lock<std::mutex>& lock);
  void issue_fetches(std::unique_lock<std::mutex>& lock);
  void on_fetch_done(fetch_call* call, const grpc::Status& status);
  // Waits on cq_ until deadline (or a wake-up) and handles what arrived.
  void handle_events(std::chrono::system_clock::time_point deadline);
  void handle_tag(void* tag, bool ok);
  // FetchStream (consumer_stream.cc). REQUIRES: mu_ held, for all of them.
  void open_stream(const topic_partition& tp, partition_state& s, const std::string& address);
  // Issues the next read if the partition is live, unpaused and has room;
  // otherwise leaves the stream idle (the fetcher reads again once poll()
  // frees room) or, if detached, finishes it.
  void continue_stream(fetch_stream* st);
  // Cancels the partition's stream (seek, reset, unassign, error, close).
  void detach_stream(partition_state& s);
  void on_stream_event(fetch_stream* st, bool ok);
  bool has_room(const partition_state& s) const;
  // A fetch for the partition failed with a retriable error (`code`, or a
  // transport failure from `from`): re-route (leader hint or refresh) and
  // back off; a usable hint is tried at once.
  void retry_partition(const topic_partition& tp, partition_state& s, client::v1::ErrorCode code,
                       const std::string& from, const client::v1::LeaderHint* hint);
  // OFFSET_OUT_OF_RANGE: true when it is only a new leader's high watermark
  // lagging what was already fetched (retried); false to reset as usual.
  bool transient_out_of_range(const topic_partition& tp, partition_state& s,
                              const client::v1::OffsetRange& range, const std::string& from);
  // Fetched bytes for the partition arrived: buffer them, advance fetch_offset.
  void take_fetched(partition_state& s, std::string&& bytes);
  // Wakes the fetcher at once. REQUIRES: mu_ held.
  void wake_fetcher();
  // REQUIRES: mu_ held.
  void drop_buffered(partition_state& s);
  void set_reset(partition_state& s);
  Status seek_with_spec(const std::vector<topic_partition>& tps, int64_t spec);

  // ---- consumer groups (consumer_group_poll.cc) ----
  // Set while subscribed (under mu_); used through copies, outside mu_,
  // since the member's threads call back into mu_ (on_group_change).
  std::shared_ptr<client::group_member> group_;
  rebalance_listener listener_;     // under mu_; copied before a callback runs
  bool group_dirty_ = true;         // the member has news for poll()
  bool manual_ = false;             // assign() gave partitions: no subscribe()
  bool leaving_ = false;            // leave_group() is under way
  uint64_t seen_fence_generation_ = 0;  // poll thread only
  int64_t next_auto_commit_ms_ = 0;     // poll thread only
  std::atomic<std::thread::id> poll_thread_{};  // inside poll(), for close() from a callback
  // Called by the member's heartbeat thread.
  void on_group_change();
  // poll()'s share: applies the member's assignment changes in consumer.h's
  // order and auto-commits on the interval. Runs on the polling thread,
  // poll_mu_ held, mu_ not held (callbacks run without it).
  Status reconcile_group(consumer& self);
  // close()/unsubscribe(): final commit, on_revoked (or on_lost), leave.
  // mu_ not held.
  void leave_group(consumer& self);
  // Positions of owned (non-held) partitions, `only` if given. REQUIRES: mu_ held.
  std::map<topic_partition, int64_t> positions_locked(const std::set<topic_partition>* only) const;
  // Runs a listener callback on the calling thread. mu_ not held.
  void run_callback(consumer& self, bool lost_not_revoked, bool assigned,
                    const std::set<topic_partition>& tps);
  // Removes partitions from the assignment (stops fetching). REQUIRES: mu_ held.
  void remove_partitions_locked(const std::set<topic_partition>& tps);
  std::shared_ptr<client::group_member> group() const;
};

}  // namespace kappa
