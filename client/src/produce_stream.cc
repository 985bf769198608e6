#include "client/src/produce_stream.h"

namespace kappa::client {

produce_stream::produce_stream(uint64_t id, std::string address, v1::Broker::Stub* stub,
                               response_fn on_response, broken_fn on_broken)
    : id_(id),
      address_(std::move(address)),
      on_response_(std::move(on_response)),
      on_broken_(std::move(on_broken)) {
  stub->async()->ProduceStream(&context_, this);
  StartRead(&response_);
  StartCall();
}

produce_stream::~produce_stream() {
  context_.TryCancel();
  std::unique_lock lock(mu_);
  // OnDone comes once the read (and any write) has failed: bounded by the
  // cancel, not by the broker.
  cv_.wait(lock, [&] { return done_; });
}

bool produce_stream::broken() const {
  std::lock_guard lock(mu_);
  return broken_;
}

bool produce_stream::write(v1::ProduceRequest request) {
  const size_t bytes = request.ByteSizeLong();
  std::unique_lock lock(mu_);
  // One request always fits, however large, so a big one cannot wedge.
  cv_.wait(lock, [&] {
    return broken_ || queued_bytes_ == 0 || queued_bytes_ + bytes <= kStreamQueuedBytesMax;
  });
  if (broken_) return false;
  queue_.push_back({std::move(request), bytes});
  queued_bytes_ += bytes;
  if (!writing_) {
    writing_ = true;
    StartWrite(&queue_.front().request);
  }
  return true;
}

void produce_stream::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
  queued_bytes_ -= queue_.front().bytes;
  queue_.pop_front();
  writing_ = false;
  if (!ok) {
    // The call is over; the pending read fails next and reports the break.
    broken_ = true;
    queue_.clear();
    queued_bytes_ = 0;
  } else if (!queue_.empty() && !broken_) {
    writing_ = true;
    StartWrite(&queue_.front().request);
  }
  cv_.notify_all();
}

void produce_stream::OnReadDone(bool ok) {
  if (ok) {
    on_response_(id_, response_);
    response_.Clear();
    StartRead(&response_);
    return;
  }
  {
    std::lock_guard lock(mu_);
    broken_ = true;
    cv_.notify_all();
  }
  // A write still queued is abandoned: cancel so it fails and OnDone comes.
  context_.TryCancel();
  on_broken_(id_, "produce stream to " + address_ + " ended");
}

void produce_stream::OnDone(const grpc::Status&) {
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_all();  // under the lock: the destructor cannot finish before this returns
}

}  // namespace kappa::client
