// The state behind kappa::controller::controller. Private to
// replication/controller/.
//
// Threads: members marked [strand] are touched only by tasks on the
// controller's strand (the executor given to start(), shared with the
// __controller raft_group, whose listener callbacks run there too); members
// marked [mu] only under `mu`; the rest are immutable after start().
//
// Time: every timer (heartbeats, fetch retries, submit retries and
// deadlines, long-poll expiry) is checked on tick(), which the broker calls
// every 50 ms; there is no thread of our own.
//
// Lifetime: gRPC and strand callbacks hold a shared_ptr to the core, so it
// outlives them; shutdown() cancels client calls and waits (bounded) until
// none is in flight, and answers every held server call.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kappa/internal/v1/controller.grpc.pb.h"
#include "replication/controller/controller.h"
#include "replication/controller/metadata_image.h"
#include "replication/group/raft_group.h"
#include "storage/log.h"

namespace kappa::controller {

namespace pb = ::kappa::internal::v1;
using clock = std::chrono::steady_clock;
using executor_fn = replication::executor_fn;

// A broker is live if it heartbeated within this window.
inline constexpr auto kLivenessWindow = std::chrono::milliseconds(3000);
inline constexpr auto kHeartbeatInterval = std::chrono::milliseconds(500);
// The longest a FetchMetadata long poll is held.
inline constexpr int32_t kFetchWaitMsMax = 1000;
// How many bytes of the log one FetchMetadata answer reads.
inline constexpr size_t kFetchBytesMax = size_t{1} << 20;
// Client RPC retries back off by this much (no retry storms during elections).
inline constexpr auto kRetryDelay = std::chrono::milliseconds(100);
// Held calls and queued work are bounded; beyond these a request is refused.
inline constexpr size_t kPendingMax = 10000;
inline constexpr size_t kFetchWaitersMax = 1000;

struct core;

// A command planned and proposed on the leader, waiting for its commit.
struct pending_submit {
  int64_t last_offset = -1;
  clock::time_point deadline;
  submit_result result;
  std::function<void(Result<submit_result>)> done;
};

// A server call that may be answered later, from the strand, or by gRPC's
// cancellation (a client gone, the server shutting down with a deadline):
// whoever claims it first fills the response and finishes it, exactly once.
// It owns itself until OnDone; holders keep it alive with a shared_ptr.
class held_call final : public grpc::ServerUnaryReactor {
 public:
  static std::shared_ptr<held_call> make() {
    auto c = std::shared_ptr<held_call>(new held_call());
    c->self_ = c;
    return c;
  }
  // True for the one caller that may fill the response and call finish().
  bool claim() { return !claimed_.exchange(true); }
  void finish(grpc::Status s) { Finish(std::move(s)); }
  void OnCancel() override {
    if (claim()) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    auto last = std::move(self_);  // may destroy *this when this scope ends
  }

 private:
  held_call() = default;
  std::atomic<bool> claimed_{false};
  std::shared_ptr<held_call> self_;
};

// A FetchMetadata call held until something is committed at from_offset.
struct fetch_waiter {
  std::shared_ptr<held_call> call;
  const pb::FetchMetadataRequest* request = nullptr;
  pb::FetchMetadataResponse* response = nullptr;
  clock::time_point deadline;
};

// A caller waiting until the local image has applied past an offset.
struct apply_waiter {
  int64_t offset = -1;
  clock::time_point deadline;
  std::function<void()> done;
};

class controller_service;

struct core : std::enable_shared_from_this<core> {
  core(controller_options o, executor_fn s, executor_fn f, replication::transport& t);
  ~core();

  // --- immutable after start ---
  controller_options opts;
  executor_fn strand;
  executor_fn flusher;
  replication::transport& net;
  bool is_voter = false;
  std::map<int32_t, std::string> voter_addresses;  // id -> internal address
  std::vector<int32_t> voter_ids;                  // sorted
  std::unique_ptr<storage::log> log;               // voters only
  std::shared_ptr<replication::raft_group> group;  // voters only
  std::unique_ptr<controller_service> service;

  // --- [mu] ---
  mutable std::mutex mu;
  std::condition_variable inflight_cv;
  bool stopped = false;
  std::shared_ptr<const metadata_image> published;  // never null
  std::vector<int32_t> view_live;
  std::vector<leader_entry> view_leaders;
  int32_t view_controller_leader = -1;
  std::function<void(std::shared_ptr<const metadata_image>)> image_cb;
  std::function<std::vector<leader_entry>()> reporter;
  std::vector<fetch_waiter> fetch_waiters;
  std::set<grpc::ClientContext*> client_calls;
  std::map<std::string, std::shared_ptr<pb::Controller::Stub>> stubs;

  // --- [strand] the image ---
  metadata_image image;       // everything applied, in offset order
  int64_t applied_end = 0;    // the offset after the last applied batch
  bool apply_failed = false;  // a record did not apply: the image is frozen
  // --- [strand] leader ---
  metadata_image spec;  // image + records proposed but not yet applied
  bool spec_valid = false;
  bool was_leader = false;
  std::multimap<int64_t, pending_submit> pendings;  // by last offset
  std::map<int32_t, clock::time_point> last_seen;   // heartbeats
  std::map<std::pair<std::string, int32_t>, leader_entry> leader_table;
  std::set<int32_t> registering;
  // --- [strand] every broker ---
  std::multimap<clock::time_point, std::function<void()>> timers;
  std::vector<apply_waiter> apply_waiters;
  int32_t leader_hint = -1;  // the controller leader as last heard (non-voters)
  size_t voter_cursor = 0;   // the next voter to try when the leader is unknown
  clock::time_point next_heartbeat{};
  bool heartbeat_in_flight = false;
  bool fetch_in_flight = false;
  clock::time_point next_fetch{};

  // --- helpers (controller.cc) ---
  void post(std::function<void()> fn);                      // onto the strand, dropped once stopped
  void after(clock::duration d, std::function<void()> fn);  // [strand]
  void on_tick();                                           // [strand]
  bool stopping() const;
  int32_t known_leader() const;          // [strand] -1 when unknown
  std::string next_target(int32_t* id);  // [strand] the leader's address, or a voter's in turn

  // --- the image (controller_apply.cc) [strand] ---
  Status apply_batch(byte_view batch);  // one batch (control batches advance applied_end only)
  Status catch_up(int64_t end);         // applies the local log from applied_end to end
  void publish();                       // image -> published, then on_image
  void resolve_applied();               // answers what waits for applied_end
  void on_raft_apply(const raft::entry& e);
  void on_raft_truncate(int64_t from);
  void on_raft_role(const replication::group_status& s);

  // --- the leader (controller_leader.cc) [strand] ---
  void submit_local(command cmd, clock::time_point deadline,
                    std::function<void(Result<submit_result>)> done);
  std::vector<int32_t> live_brokers(bool registered_only) const;
  void handle_heartbeat(const pb::HeartbeatRequest& req, pb::HeartbeatResponse* resp);
  void answer_fetch(const pb::FetchMetadataRequest& req, pb::FetchMetadataResponse* resp);
  void wake_fetch_waiters(bool expire_all);
  void expire_pendings(clock::time_point now);

  // --- every broker (controller_client.cc) [strand] ---
  void submit_anywhere(command cmd, clock::time_point deadline,
                       std::function<void(Result<submit_result>)> done);
  void forward(std::shared_ptr<pb::SubmitRequest> req, clock::time_point deadline,
               std::function<void(Result<submit_result>)> done, Status last_error);
  void wait_applied(int64_t offset, clock::time_point deadline, std::function<void()> done);
  void heartbeat_round();
  void take_heartbeat_answer(const pb::HeartbeatResponse& resp);
  void fetch_round();
  std::shared_ptr<pb::Controller::Stub> stub(const std::string& address);
  // Client call bookkeeping: register before starting, release in the callback.
  bool begin_call(grpc::ClientContext* ctx);
  void end_call(grpc::ClientContext* ctx);

  // executors_alive = false: the owner already stopped the strand and the
  // flusher, so nothing waits on them (the group and what waited on the
  // strand are finished inline, where no strand task can run concurrently).
  void shutdown(bool executors_alive = true);
};

}  // namespace kappa::controller
