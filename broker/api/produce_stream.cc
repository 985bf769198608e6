// ProduceStream: pipelined producing. Requests are dispatched as they
// arrive; responses go out in request order (so one partition's responses
// keep the order of its requests even when a request spans partitions that
// complete at different times). At most kInFlightMax requests are in flight
// per stream: past that the broker stops reading, and gRPC's flow control
// pushes back on the producer.
#include <deque>
#include <mutex>

#include "broker/api/services.h"

namespace kappa::broker {
namespace {

constexpr size_t kInFlightMax = 256;

class produce_stream final
    : public grpc::ServerBidiReactor<v1::ProduceRequest, v1::ProduceResponse>,
      public std::enable_shared_from_this<produce_stream> {
 public:
  explicit produce_stream(partition_manager& pm) : pm_(pm), timer_(pm, api::produce_stream) {}

  void start(std::shared_ptr<produce_stream> self) {
    std::lock_guard lk(mu_);
    self_ = std::move(self);
    if (pm_.shutting_down()) {
      return finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
    }
    reading_ = true;
    StartRead(&req_);
  }

  void OnReadDone(bool ok) override {
    auto s = std::make_shared<slot>();
    v1::ProduceRequest req;
    {
      std::lock_guard lk(mu_);
      if (!ok || finished_) {  // the client half-closed (or the call is over)
        reading_ = false;
        read_done_ = true;
        return maybe_finish_locked();
      }
      // reading_ stays true until this request is dispatched: a completion
      // on another thread must not start the next read (and dispatch it)
      // before this one, or requests would reach a partition out of order.
      slots_.push_back(s);
      req = std::move(req_);
      req_.Clear();
    }
    // Unlocked: the callback may run right here (errors, ACKS_NONE).
    produce_request(pm_, std::move(req), [w = weak_from_this(), s](v1::ProduceResponse r) {
      auto self = w.lock();
      if (!self) return;
      std::lock_guard lk(self->mu_);
      s->resp = std::move(r);
      s->ready = true;
      self->pump_locked();
    });
    std::lock_guard lk(mu_);
    reading_ = false;
    pump_locked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lk(mu_);
    writing_ = false;
    if (!ok) return finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    pump_locked();
  }

  void OnCancel() override {
    std::lock_guard lk(mu_);
    finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    timer_.record(final_status_);
    std::shared_ptr<produce_stream> keep;  // destroyed last: may delete *this
    std::lock_guard lk(mu_);
    keep = std::move(self_);
  }

 private:
  struct slot {
    bool ready = false;
    v1::ProduceResponse resp;
  };

  // Writes the oldest response if it is ready, resumes reading when below
  // the in-flight cap, finishes when everything is answered.
  void pump_locked() {
    if (finished_) return;
    if (!writing_ && !slots_.empty() && slots_.front()->ready) {
      out_ = std::move(slots_.front()->resp);
      slots_.pop_front();
      writing_ = true;
      StartWrite(&out_);
    }
    if (!reading_ && !read_done_ && slots_.size() < kInFlightMax) {
      reading_ = true;
      StartRead(&req_);
    }
    maybe_finish_locked();
  }

  void maybe_finish_locked() {
    if (read_done_ && slots_.empty() && !writing_) finish_locked(grpc::Status::OK);
  }

  void finish_locked(grpc::Status st) {
    if (finished_) return;
    finished_ = true;
    final_status_ = st;
    Finish(std::move(st));
  }

  partition_manager& pm_;
  call_timer timer_;
  std::mutex mu_;
  std::shared_ptr<produce_stream> self_;
  v1::ProduceRequest req_;
  v1::ProduceResponse out_;
  std::deque<std::shared_ptr<slot>> slots_;
  bool reading_ = false;
  bool read_done_ = false;
  bool writing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace

grpc::ServerBidiReactor<v1::ProduceRequest, v1::ProduceResponse>* broker_service::ProduceStream(
    grpc::CallbackServerContext*) {
  auto s = std::make_shared<produce_stream>(pm_);
  s->start(s);
  return s.get();
}

}  // namespace kappa::broker
