// FetchStream: tails one partition. Flow control: the next message is read
// only after OnWriteDone of the previous one, so a slow reader holds at most
// one message (max_bytes, or one batch) in the broker. With nothing new to
// send the stream parks on the partition's waiter list; no thread waits.
// Only the leader serves it: a replica that is not (or stops being) the
// leader ends the stream with NOT_LEADER_OR_FOLLOWER and a leader hint, or
// LEADER_NOT_AVAILABLE; the consumer reconnects to the leader.
#include <mutex>

#include "broker/api/fetch_read.h"
#include "broker/api/leader_hint.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

class fetch_stream final : public grpc::ServerWriteReactor<v1::FetchStreamResponse>,
                           public std::enable_shared_from_this<fetch_stream> {
 public:
  fetch_stream(partition_manager& pm, const v1::FetchStreamRequest* req)
      : pm_(pm), timer_(pm, api::fetch_stream), topic_(req->topic()),
        partition_id_(req->partition()), offset_(req->offset()) {
    const size_t cap = pm.config().fetch_max_bytes;
    max_bytes_ = req->max_bytes() <= 0 ? std::min(cap, size_t{1} << 20)
                                       : std::min(cap, size_t(req->max_bytes()));
  }

  void start(std::shared_ptr<fetch_stream> self) {
    std::lock_guard lk(mu_);
    self_ = std::move(self);
    Status st = validate_topic_name(topic_);
    if (st.ok()) {
      part_ = pm_.get(topic_, partition_id_);
      if (!part_) st = missing_replica(pm_, topic_, partition_id_);
    }
    if (!st.ok()) return finish_with_error_locked(st);
    pump_locked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lk(mu_);
    writing_ = false;
    if (!ok) return finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    pump_locked();  // finishes if OnCancel came while this write was in flight
  }

  void OnCancel() override {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    unpark_locked();
    if (!writing_) finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    timer_.record(final_status_);
    std::shared_ptr<fetch_stream> keep;  // destroyed last: may delete *this
    std::lock_guard lk(mu_);
    unpark_locked();
    keep = std::move(self_);
  }

 private:
  // Sends the next message if there is data, else parks. REQUIRES: mu_ held.
  void pump_locked() {
    if (finished_ || writing_) return;
    // OnCancel during a write leaves the finish to us: a write that had
    // already gone out completes with ok=true, and without this the reactor
    // never finished and Server::Shutdown waited for it forever.
    if (cancelled_) return finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    if (pm_.shutting_down()) {
      return finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
    }
    // Leadership is checked before every read: a replica woken by losing it
    // (partition::on_role wakes waiters) ends the stream here.
    if (Status st = check_leader(pm_, topic_, partition_id_, part_.get()); !st.ok()) {
      return finish_with_error_locked(st);
    }
    // Bounded: each round either writes, finishes, or parks.
    for (int round = 0; round < 2; ++round) {
      msg_.Clear();
      int64_t next = offset_;
      Status st = read_partition(*part_, offset_, max_bytes_, msg_.mutable_records(), &next,
                                 msg_.mutable_valid_range());
      if (!st.ok()) return finish_with_error_locked(st);
      if (!msg_.records().empty()) {
        offset_ = next;
        msg_.set_high_watermark(part_->high_watermark());
        msg_.set_log_start_offset(part_->log_start_offset());
        msg_.set_next_offset(next);
        pm_.stats().bytes_out(msg_.records().size());
        writing_ = true;
        StartWrite(&msg_);
        return;
      }
      if (parked_ != 0) return;
      parked_ = part_->add_waiter([w = weak_from_this()] {
        if (auto self = w.lock()) {
          std::lock_guard lk(self->mu_);
          self->parked_ = 0;
          self->pump_locked();
        }
      });
      if (parked_ == 0) {
        return finish_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                          "too many readers waiting on this partition"));
      }
      // An append between the read and parking woke nobody: look again.
      if (part_->high_watermark() <= offset_) return;
      unpark_locked();
    }
  }

  void unpark_locked() {
    if (parked_ != 0 && part_) part_->remove_waiter(parked_);
    parked_ = 0;
  }

  void finish_with_error_locked(const Status& st) {
    msg_.Clear();
    msg_.set_error_code(to_error_code(st));
    msg_.set_error_message(st.message());
    msg_.set_next_offset(offset_);
    if (part_) {
      msg_.set_high_watermark(part_->high_watermark());
      msg_.set_log_start_offset(part_->log_start_offset());
    }
    if (wants_leader_hint(st)) {
      set_leader_hint(pm_, topic_, partition_id_, msg_.mutable_current_leader());
    }
    if (st.code() == errc::offset_out_of_range && part_) {
      msg_.mutable_valid_range()->set_log_start_offset(part_->log_start_offset());
      msg_.mutable_valid_range()->set_high_watermark(part_->high_watermark());
    }
    finished_ = true;
    final_status_ = grpc::Status::OK;
    unpark_locked();
    StartWriteAndFinish(&msg_, grpc::WriteOptions(), final_status_);
  }

  void finish_locked(grpc::Status st) {
    if (finished_) return;
    finished_ = true;
    final_status_ = st;
    unpark_locked();
    Finish(std::move(st));
  }

  partition_manager& pm_;
  call_timer timer_;
  const std::string topic_;
  const int32_t partition_id_;
  size_t max_bytes_ = 0;

  std::mutex mu_;
  std::shared_ptr<fetch_stream> self_;       // keeps the reactor alive until OnDone
  std::shared_ptr<partition> part_;
  int64_t offset_;
  v1::FetchStreamResponse msg_;
  uint64_t parked_ = 0;
  bool writing_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  grpc::Status final_status_;
};

}  // namespace

grpc::ServerWriteReactor<v1::FetchStreamResponse>* broker_service::FetchStream(
    grpc::CallbackServerContext*, const v1::FetchStreamRequest* req) {
  auto s = std::make_shared<fetch_stream>(pm_, req);
  s->start(s);
  return s.get();
}

}  // namespace kappa::broker
