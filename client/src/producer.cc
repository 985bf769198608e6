#include <algorithm>
#include <chrono>

#include "client/src/backoff.h"
#include "client/src/producer_impl.h"

namespace kappa {

using client::now_ms;
using client::producer_batch;
namespace v1 = client::v1;

namespace {

client::accumulator_options accumulator_options_of(const producer_config& c) {
  client::accumulator_options o;
  o.batch_bytes = c.batch_bytes;
  o.linger_ms = c.linger_ms;
  o.buffer_bytes = c.buffer_bytes;
  o.max_in_flight_per_partition = c.max_in_flight_per_partition;
  o.seed = std::random_device{}();
  return o;
}

}  // namespace

producer::impl::impl(const producer_config& config)
    : config_(config),
      idempotent_(config.idempotence && config.required_acks != acks::none),
      pool_(config.client),
      metadata_(pool_),
      accumulator_(accumulator_options_of(config)) {
  sender_ = std::thread([this] { run_sender(); });
}

producer::impl::~impl() { (void)close(-1); }

void producer::impl::send(producer_record record, delivery_callback callback) {
  auto fail_now = [&](client_errc e, const std::string& message) {
    delivery_report r;
    r.topic = record.topic;
    r.partition = record.partition.value_or(-1);
    r.status = client_error(e, message);
    if (callback) callback(r);
  };
  {
    std::lock_guard lock(mu_);
    if (closed_) return fail_now(client_errc::closed, "send: the producer is closed");
  }
  if (record.topic.empty()) return fail_now(client_errc::invalid_argument, "send: empty topic name");
  const int64_t deadline = now_ms() + config_.max_block_ms;
  if (Status st = metadata_.ensure(record.topic, deadline); !st.ok()) {
    return fail_now(static_cast<client_errc>(st.code().value()), "send: " + st.message());
  }
  const std::optional<int32_t> count = metadata_.partition_count(record.topic);
  if (!count) return fail_now(client_errc::unknown_topic_or_partition, "send: topic '" + record.topic + "' vanished");
  if (record.partition && (*record.partition < 0 || *record.partition >= *count)) {
    return fail_now(client_errc::invalid_argument, "send: partition " + std::to_string(*record.partition) +
                                                       " of '" + record.topic + "' which has " +
                                                       std::to_string(*count) + " partitions");
  }
  format::record r;
  r.key = std::move(record.key);
  r.value = std::move(record.value);
  for (auto& h : record.headers) r.headers.push_back({std::move(h.key), std::move(h.value)});
  r.timestamp = record.timestamp_ms.value_or(client::wall_clock_ms());
  const size_t bytes = client::estimate_record_bytes(r);
  if (bytes > config_.buffer_bytes || bytes > config_.max_request_bytes) {
    return fail_now(client_errc::message_too_large,
                    "send: record of ~" + std::to_string(bytes) + " bytes exceeds buffer_bytes or max_request_bytes");
  }
  std::unique_lock lock(mu_);
  const bool room = space_cv_.wait_until(lock, client::steady::now() + std::chrono::milliseconds(deadline - now_ms()),
                                         [&] { return closed_ || accumulator_.has_room(bytes); });
  if (closed_) {
    lock.unlock();
    return fail_now(client_errc::closed, "send: the producer is closed");
  }
  if (!room) {
    lock.unlock();
    return fail_now(client_errc::queue_full, "send: buffer_bytes (" + std::to_string(config_.buffer_bytes) +
                                                 ") still full after max_block_ms (" +
                                                 std::to_string(config_.max_block_ms) + ")");
  }
  const int64_t now = now_ms();
  bool plan_changed = false;
  accumulator_.append(record.topic, record.partition, *count, std::move(r), bytes, std::move(callback), now,
                      now + config_.delivery_timeout_ms, &plan_changed);
  ++outstanding_;
  // Wake the sender only when its plan changes (a new linger timer, a full
  // batch), not for every record.
  if (plan_changed) wake_sender_locked();
}

Status producer::impl::flush(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  ++flushing_;
  wake_sender_locked();
  auto drained = [&] { return outstanding_ == 0; };
  bool ok = true;
  if (timeout_ms < 0) {
    done_cv_.wait(lock, drained);
  } else {
    ok = done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), drained);
  }
  --flushing_;
  if (!ok) {
    return client_error(client_errc::timeout, "flush: " + std::to_string(outstanding_) +
                                                  " records still unacknowledged after " +
                                                  std::to_string(timeout_ms) + " ms");
  }
  return Status();
}

Status producer::impl::close(int64_t timeout_ms) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Status();
    closed_ = true;
  }
  space_cv_.notify_all();
  Status flushed = flush(timeout_ms < 0 ? config_.delivery_timeout_ms : timeout_ms);
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    wake_sender_locked();
  }
  sender_.join();  // destroys the streams: no response arrives after this
  std::vector<completion> done;
  {
    std::lock_guard lock(mu_);
    const Status st = client_error(client_errc::closed, "the producer closed before delivery");
    for (auto& b : accumulator_.take_if([](const producer_batch&) { return true; })) fail_batch(*b, st, done);
    for (auto& [cid, req] : in_flight_) {
      for (auto& b : req.batches) {
        accumulator_.complete(*b, false);
        fail_batch(*b, st, done);
      }
    }
    in_flight_.clear();
  }
  finish(done);
  return flushed;
}

void producer::impl::fail_batch(producer_batch& batch, const Status& status, std::vector<completion>& done) {
  for (size_t i = 0; i < batch.records.size(); ++i) {
    delivery_report r;
    r.topic = batch.tp.topic;
    r.partition = batch.tp.partition;
    r.timestamp_ms = batch.records[i].timestamp;
    r.status = status;
    done.push_back({std::move(batch.callbacks[i]), std::move(r)});
  }
}

void producer::impl::succeed_batch(producer_batch& batch, int64_t base_offset, int64_t log_append_time_ms,
                                   std::vector<completion>& done) {
  for (size_t i = 0; i < batch.records.size(); ++i) {
    delivery_report r;
    r.topic = batch.tp.topic;
    r.partition = batch.tp.partition;
    r.offset = base_offset < 0 ? -1 : base_offset + static_cast<int64_t>(i);
    r.timestamp_ms = log_append_time_ms >= 0 ? log_append_time_ms : batch.records[i].timestamp;
    done.push_back({std::move(batch.callbacks[i]), std::move(r)});
  }
}

void producer::impl::finish(std::vector<completion>& done) {
  if (done.empty()) return;
  for (auto& c : done) {
    if (c.callback) c.callback(c.report);
  }
  {
    std::lock_guard lock(mu_);
    KAPPA_ASSERT(outstanding_ >= done.size());
    outstanding_ -= done.size();
  }
  done.clear();
  done_cv_.notify_all();
  space_cv_.notify_all();
}

void producer::impl::retry_or_fail(std::unique_ptr<producer_batch> batch, const Status& status,
                                   std::vector<completion>& done, bool rerouted) {
  const int64_t now = now_ms();
  if (!stopped_ && now < batch->deadline_ms) {
    // A fresh leader hint is worth trying at once; leaders that keep moving
    // (hints pointing back and forth) fall back to the backoff.
    const int64_t wait = rerouted && batch->attempts <= 2 ? 0 : client::backoff_ms(config_.client, batch->attempts);
    // Queued again: the sender's expiry scan did not see it.
    next_expiry_scan_ms_ = std::min(next_expiry_scan_ms_, batch->deadline_ms);
    accumulator_.retry(std::move(batch), now + wait);
    return;
  }
  accumulator_.complete(*batch, false);
  fail_batch(*batch,
             stopped_ ? client_error(client_errc::closed, "the producer closed before delivery; last error: " +
                                                             status.message())
                      : client_error(client_errc::timeout, "delivery_timeout_ms passed; last error: " +
                                                               status.message()),
             done);
}

void producer::impl::on_response(uint64_t stream_id, v1::ProduceResponse& response) {
  std::vector<completion> done;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(response.correlation_id());
    if (it == in_flight_.end() || it->second.stream_id != stream_id) return;  // acks=none, or already retried
    request_in_flight request = std::move(it->second);
    in_flight_.erase(it);
    for (auto& batch : request.batches) {
      const v1::PartitionProduceResponse* answer = nullptr;
      for (const auto& t : response.topics()) {
        if (t.topic() != batch->tp.topic) continue;
        for (const auto& p : t.partitions()) {
          if (p.partition() == batch->tp.partition) answer = &p;
        }
      }
      const std::string what = "produce to " + batch->tp.topic + "-" + std::to_string(batch->tp.partition);
      if (answer == nullptr) {
        retry_or_fail(std::move(batch), client_error(client_errc::invalid_request, what + ": missing from response"),
                      done);
        continue;
      }
      const v1::ErrorCode code = answer->error_code();
      // DUPLICATE_SEQUENCE_NUMBER: the broker already has this batch (an
      // earlier attempt landed): it is delivered.
      if (code == v1::NONE || code == v1::DUPLICATE_SEQUENCE_NUMBER) {
        accumulator_.complete(*batch, true);
        succeed_batch(*batch, code == v1::NONE ? answer->base_offset() : -1, answer->log_append_time_ms(), done);
        continue;
      }
      Status st = client::from_code(code, answer->error_message(), what);
      // Leadership moved or is moving. The retry keeps the batch's bytes,
      // so its producer id, epoch and sequence: if an earlier attempt did
      // commit (NOT_ENOUGH_REPLICAS and a timeout do not say it did not),
      // the leader answers it as a duplicate with the original offset.
      bool rerouted = false;
      switch (code) {
        case v1::NOT_LEADER_OR_FOLLOWER:
          rerouted = metadata_.not_leader(batch->tp.topic, batch->tp.partition, request.address,
                                          answer->current_leader());
          break;
        case v1::UNKNOWN_TOPIC_OR_PARTITION:
        case v1::LEADER_NOT_AVAILABLE:
        case v1::FENCED_LEADER_EPOCH:
        case v1::UNKNOWN_LEADER_EPOCH:
          metadata_.invalidate(batch->tp.topic, batch->tp.partition);
          break;
        case v1::NOT_ENOUGH_REPLICAS:
        case v1::NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case v1::REQUEST_TIMED_OUT:
          metadata_.request_refresh();  // the leader may be cut off and about to step down
          break;
        default:
          break;
      }
      const bool retriable = is_retriable(st.code()) ||
                             (code == v1::OUT_OF_ORDER_SEQUENCE_NUMBER && accumulator_.earlier_batch_pending(*batch));
      if (retriable) {
        retry_or_fail(std::move(batch), st, done, rerouted);
      } else {
        accumulator_.complete(*batch, false);
        fail_batch(*batch, st, done);
      }
    }
    wake_sender_locked();
  }
  finish(done);
}

void producer::impl::on_broken(uint64_t stream_id, const std::string& why) {
  std::vector<completion> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second.stream_id != stream_id) {
        ++it;
        continue;
      }
      // Retried in send order (in_flight_ is keyed by correlation id, which
      // grows with send order; the accumulator re-queues by batch id), with
      // the same sequences, to whichever broker leads next.
      for (auto& batch : it->second.batches) {
        metadata_.invalidate(batch->tp.topic, batch->tp.partition);
        retry_or_fail(std::move(batch), client_error(client_errc::transport, why), done);
      }
      it = in_flight_.erase(it);
    }
    wake_sender_locked();
  }
  finish(done);
}

}  // namespace kappa
