// Fetch (unary, long-poll): reads whole batches below the high watermark;
// when fewer than min_bytes are available, parks on the partitions' waiter
// lists and an Asio timer (max_wait_ms) instead of blocking a thread.
//
// The record bytes are copied from the mapped segment into the response's
// `bytes` field (one memcpy per partition); serving slices over the mapping
// is left for later.
#include <mutex>

#include "broker/api/fetch_read.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/runtime.h"

namespace kappa::broker {
namespace {

class fetch_op : public std::enable_shared_from_this<fetch_op> {
 public:
  fetch_op(partition_manager& pm, grpc::ServerUnaryReactor* reactor, const v1::FetchRequest* req,
           v1::FetchResponse* resp)
      : pm_(pm), reactor_(reactor), req_(req), resp_(resp), timer_(pm, api::fetch),
        wait_timer_(pm.rt().workers) {}

  void start() {
    std::lock_guard lk(mu_);
    const int64_t wait_ms =
        std::min<int64_t>(std::max(0, req_->max_wait_ms()), pm_.config().fetch_max_wait_ms_max);
    if (attempt_locked(wait_ms == 0)) return;
    wait_timer_.expires_after(std::chrono::milliseconds(wait_ms));
    wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
      std::lock_guard lk(self->mu_);
      if (!self->finished_) self->attempt_locked(/*final=*/true);
    });
    park_locked();
  }

 private:
  // Builds the response; finishes the call when it is enough (or `final`).
  // Returns whether the call is finished. REQUIRES: mu_ held.
  bool attempt_locked(bool final) {
    resp_->Clear();
    fetch_totals totals = fill_fetch_response(pm_, *req_, *resp_);
    const bool enough = totals.bytes >= uint64_t(std::max(0, req_->min_bytes())) ||
                        totals.errors > 0 || totals.partitions == 0;
    if (!final && !enough && !pm_.shutting_down()) return false;
    finish_locked(totals.bytes);
    return true;
  }

  void finish_locked(uint64_t bytes) {
    finished_ = true;
    for (auto& [p, id] : parked_) p->remove_waiter(id);
    parked_.clear();
    wait_timer_.cancel();
    pm_.stats().bytes_out(bytes);
    timer_.finish(reactor_, grpc::Status::OK);
  }

  // Parks on every fetched partition; the first append (or shutdown) wakes
  // the op, which reads again. REQUIRES: mu_ held, not finished.
  void park_locked() {
    for (const auto& t : req_->topics()) {
      for (const auto& fp : t.partitions()) {
        auto p = pm_.get(t.topic(), fp.partition());
        if (!p) continue;
        uint64_t id = p->add_waiter([self = shared_from_this()] { self->on_wake(); });
        if (id == 0) {  // the partition's waiter list is full: answer now
          attempt_locked(true);
          return;
        }
        parked_.emplace_back(std::move(p), id);
      }
    }
    // An append between our last read and parking woke nobody: read again
    // now that we are parked.
    attempt_locked(pm_.shutting_down());
  }

  void on_wake() {
    std::lock_guard lk(mu_);
    if (finished_) return;
    for (auto& [p, id] : parked_) p->remove_waiter(id);
    parked_.clear();
    if (!attempt_locked(false)) park_locked();
  }

  partition_manager& pm_;
  grpc::ServerUnaryReactor* const reactor_;
  const v1::FetchRequest* const req_;
  v1::FetchResponse* const resp_;
  call_timer timer_;
  std::mutex mu_;
  bool finished_ = false;
  asio::steady_timer wait_timer_;
  std::vector<std::pair<std::shared_ptr<partition>, uint64_t>> parked_;
};

}  // namespace

grpc::ServerUnaryReactor* broker_service::Fetch(grpc::CallbackServerContext* ctx,
                                                const v1::FetchRequest* req,
                                                v1::FetchResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  // The op keeps itself alive through its timer and waiters until it finishes.
  std::make_shared<fetch_op>(pm_, reactor, req, resp)->start();
  return reactor;
}

}  // namespace kappa::broker
