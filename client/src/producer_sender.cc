// The producer's sender thread: what leaves, when, and on which stream.
#include <algorithm>
#include <chrono>
#include <set>

#include "client/src/backoff.h"
#include "client/src/produce_plan.h"
#include "client/src/producer_impl.h"
#include "proto/format/compression.h"

namespace kappa {

using client::now_ms;
using client::producer_batch;
namespace v1 = client::v1;

namespace {

format::compression codec_of(compression_codec c) {
  switch (c) {
    case compression_codec::none: return format::compression::none;
    case compression_codec::gzip: return format::compression::gzip;
    case compression_codec::snappy: return format::compression::snappy;
    case compression_codec::lz4: return format::compression::lz4;
    case compression_codec::zstd: return format::compression::zstd;
  }
  return format::compression::none;
}

v1::Acks acks_of(acks a) {
  switch (a) {
    case acks::none: return v1::ACKS_NONE;
    case acks::leader: return v1::ACKS_LEADER;
    case acks::all: return v1::ACKS_ALL;
  }
  return v1::ACKS_ALL;
}

// A request being assembled for one broker.
struct pending_request {
  std::string address;
  v1::ProduceRequest request;
  std::vector<std::unique_ptr<producer_batch>> batches;
  size_t bytes = 0;
};

}  // namespace

bool producer::impl::init_producer_id(bool bump) {
  v1::InitProducerIdRequest request;
  {
    std::lock_guard lock(mu_);
    request.set_producer_id(bump ? producer_id_ : -1);
    request.set_producer_epoch(bump ? producer_epoch_ : -1);
  }
  Status last;
  for (const auto& address : metadata_.any_brokers()) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config_.client.request_timeout_ms));
    v1::InitProducerIdResponse response;
    grpc::Status status = pool_.broker(address)->InitProducerId(&context, request, &response);
    if (status.ok() && response.error_code() == v1::NONE) {
      std::lock_guard lock(mu_);
      producer_id_ = response.producer_id();
      producer_epoch_ = static_cast<int16_t>(response.producer_epoch());
      init_attempts_ = 0;
      // Only the sender thread drains, so nothing was sent since it decided
      // to bump: every partition may start again at sequence 0.
      if (bump) accumulator_.reset_sequences();
      return true;
    }
  }
  std::lock_guard lock(mu_);
  init_retry_at_ms_ = now_ms() + client::backoff_ms(config_.client, ++init_attempts_);
  return false;
}

client::produce_stream* producer::impl::stream_for(const std::string& address) {
  auto it = streams_.find(address);
  if (it != streams_.end() && !it->second->broken()) return it->second.get();
  if (it != streams_.end()) {
    std::unique_ptr<client::produce_stream> dead = std::move(it->second);
    streams_.erase(it);
    dead.reset();  // joins its reader; no lock is held here
  }
  auto stream = std::make_unique<client::produce_stream>(
      next_stream_id_++, address, pool_.broker(address),
      [this](uint64_t id, v1::ProduceResponse& r) { on_response(id, r); },
      [this](uint64_t id, const std::string& why) { on_broken(id, why); });
  return streams_.emplace(address, std::move(stream)).first->second.get();
}

void producer::impl::run_sender() {
  std::unique_lock lock(mu_);
  while (!stopped_) sender_round(lock);
  lock.unlock();
  streams_.clear();  // joins the readers, which may still take mu_
}

void producer::impl::sender_round(std::unique_lock<std::mutex>& lock) {
  const int64_t now = now_ms();
  std::vector<completion> done;

  // Batches that waited past their delivery deadline fail without a send.
  // The scan visits every queued batch (a thousand with a full buffer), so
  // it runs only once the earliest deadline it saw is due: batches queued
  // later have later deadlines (same delivery_timeout_ms, later send()).
  if (now >= next_expiry_scan_ms_) {
    int64_t earliest = INT64_MAX;
    for (auto& b : accumulator_.take_if([&](const producer_batch& b) {
           if (b.deadline_ms <= now) return true;
           earliest = std::min(earliest, b.deadline_ms);
           return false;
         })) {
      fail_batch(*b, client_error(client_errc::timeout, "delivery_timeout_ms passed before the batch could be sent"),
                 done);
    }
    next_expiry_scan_ms_ = earliest;
  }
  // A request unanswered for request_timeout_ms: end its stream, which
  // retries everything on it (the broker dedups what did land).
  // The broker waits up to request_timeout_ms for acks=all and then answers
  // NOT_ENOUGH_REPLICAS: give that answer a grace period to arrive before
  // giving up on the stream.
  const int64_t overdue_ms =
      config_.client.request_timeout_ms + std::clamp<int64_t>(config_.client.request_timeout_ms / 4, 100, 2000);
  std::set<uint64_t> overdue;
  for (const auto& [cid, r] : in_flight_) {
    if (now - r.sent_ms > overdue_ms) overdue.insert(r.stream_id);
  }

  // A batch that failed for good left the broker's sequence behind ours:
  // stop taking fresh batches, let retries settle, then bump the epoch
  // (InitProducerId with the current id), which restarts sequences at 0.
  const bool broken = idempotent_ && producer_id_ >= 0 && accumulator_.sequence_broken();
  const bool bump = broken && in_flight_.empty() && !accumulator_.has_sequenced_queued();
  const bool need_id = idempotent_ && (producer_id_ < 0 || bump) && accumulator_.queued_batches() > 0;
  std::vector<std::unique_ptr<producer_batch>> drained;
  if (!need_id) {
    drained = accumulator_.drain(
        now, flushing_ > 0 || closed_,
        [&](const topic_partition& tp) {
          return metadata_.leader(tp.topic, tp.partition).has_value();
        },
        idempotent_ ? producer_id_ : -1, !broken);
  }
  const int64_t pid = producer_id_;
  const int16_t epoch = producer_epoch_;
  const int64_t init_at = init_retry_at_ms_;
  const uint64_t wakeups_seen = sender_wakeups_;
  lock.unlock();

  // Build each batch once (a retry resends the same bytes), then group them
  // by leader (see produce_plan.h for the order rule).
  std::vector<std::unique_ptr<producer_batch>> built;
  std::vector<client::planned_batch> plan_input;
  std::vector<std::unique_ptr<producer_batch>> unbuildable;
  std::vector<Status> unbuildable_status;
  for (auto& b : drained) {
    if (b->bytes.empty()) {
      format::batch_options options;
      options.codec = codec_of(config_.compression);
      if (b->base_sequence >= 0) {
        options.producer_id = pid;
        options.producer_epoch = epoch;
        options.base_sequence = b->base_sequence;
      }
      auto bytes = format::build_batch(options, b->records);
      if (!bytes.ok()) {
        unbuildable_status.push_back(client_error(client_errc::invalid_argument, "building batch: " + bytes.status().message()));
        unbuildable.push_back(std::move(b));
        continue;
      }
      b->bytes = std::move(bytes).value();
    }
    plan_input.push_back({metadata_.leader(b->tp.topic, b->tp.partition).value_or(""), b->tp, b->bytes.size()});
    built.push_back(std::move(b));
  }
  std::vector<pending_request> requests;
  for (auto& planned : client::plan_requests(plan_input, config_.max_request_bytes)) {
    pending_request& target = requests.emplace_back();
    target.address = std::move(planned.address);
    target.bytes = planned.bytes;
    target.request.set_acks(acks_of(config_.required_acks));
    target.request.set_timeout_ms(static_cast<int32_t>(config_.client.request_timeout_ms));
    for (size_t i : planned.batches) {
      std::unique_ptr<producer_batch>& b = built[i];
      v1::TopicProduceData* topic = nullptr;
      for (auto& t : *target.request.mutable_topics()) {
        if (t.topic() == b->tp.topic) topic = &t;
      }
      if (topic == nullptr) {
        topic = target.request.add_topics();
        topic->set_topic(b->tp.topic);
      }
      auto* p = topic->add_partitions();
      p->set_partition(b->tp.partition);
      p->set_records(b->bytes.data(), b->bytes.size());
      target.batches.push_back(std::move(b));
    }
  }

  // Leaders unknown or stale, or the periodic refresh: rate-limited inside.
  metadata_.maybe_refresh();
  if (need_id && now >= init_at) init_producer_id(bump);
  for (uint64_t id : overdue) {
    for (auto& [address, s] : streams_) {
      if (s->id() == id) s->cancel();
    }
  }

  for (auto& r : requests) {
    client::produce_stream* stream = stream_for(r.address);
    lock.lock();
    const uint64_t cid = next_correlation_id_++;
    r.request.set_correlation_id(cid);
    for (auto& b : r.batches) ++b->attempts;
    const bool fire_and_forget = config_.required_acks == acks::none;
    if (!fire_and_forget) {
      if (stream->broken()) {
        // The broker is gone (its stream broke at once): ask who leads now.
        for (auto& b : r.batches) {
          metadata_.invalidate(b->tp.topic, b->tp.partition);
          retry_or_fail(std::move(b), client_error(client_errc::transport, "stream to " + r.address + " broke"), done);
        }
        lock.unlock();
        continue;
      }
      // Registered before the write: the response may come back before
      // write() returns.
      request_in_flight& f = in_flight_[cid];
      f.stream_id = stream->id();
      f.address = r.address;
      f.sent_ms = now_ms();
      f.batches = std::move(r.batches);
    }
    lock.unlock();
    const bool written = stream->write(std::move(r.request));
    if (fire_and_forget) {
      lock.lock();
      for (auto& b : r.batches) {
        if (written) {
          accumulator_.complete(*b, true);
          succeed_batch(*b, -1, -1, done);
        } else {
          retry_or_fail(std::move(b), client_error(client_errc::transport, "write to " + r.address + " failed"), done);
        }
      }
      lock.unlock();
    }
    // A failed write of an acknowledged request is retried by on_broken.
  }

  lock.lock();
  for (size_t i = 0; i < unbuildable.size(); ++i) {
    accumulator_.complete(*unbuildable[i], false);
    fail_batch(*unbuildable[i], unbuildable_status[i], done);
  }
  if (!done.empty()) {
    lock.unlock();
    finish(done);
    lock.lock();
  }
  // A send(), response or flush while we were unlocked may have made
  // something ready that the drain above did not see: go round again rather
  // than sleep past it (with linger 0 that record's batch would otherwise
  // wait until it filled up or 100 ms passed).
  if (stopped_ || !drained.empty() || sender_wakeups_ != wakeups_seen) return;
  // Sleep until the next linger/backoff expiry; when something is ready but
  // cannot go (no leader, in-flight limit) poll at the retry backoff, and
  // wake early for any completion, flush or full batch.
  const int64_t t = now_ms();
  int64_t wake = accumulator_.next_ready_ms();
  if (wake <= t) wake = t + std::max<int64_t>(1, config_.client.retry_backoff_min_ms);
  if (!in_flight_.empty()) wake = std::min(wake, t + config_.client.request_timeout_ms / 4 + 1);
  wake = std::min(wake, t + 1000);
  sender_cv_.wait_for(lock, std::chrono::milliseconds(wake - t));
}

// ---- the public class ----

producer::producer(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
producer::~producer() = default;

Result<std::unique_ptr<producer>> producer::create(const producer_config& config) {
  auto bad = [](std::string m) { return client_error(client_errc::invalid_argument, "producer config: " + m); };
  if (config.max_in_flight_per_partition < 1 || config.max_in_flight_per_partition > 5) {
    return bad("max_in_flight_per_partition must be 1..5");
  }
  if (config.batch_bytes == 0 || config.buffer_bytes < config.batch_bytes) return bad("need 0 < batch_bytes <= buffer_bytes");
  if (config.linger_ms < 0 || config.max_block_ms < 0 || config.delivery_timeout_ms <= 0) return bad("bad time limit");
  if (config.client.request_timeout_ms <= 0) return bad("request_timeout_ms must be > 0");
  if (client::parse_bootstrap(config.client.bootstrap).empty()) return bad("empty bootstrap");
  return std::unique_ptr<producer>(new producer(std::make_unique<impl>(config)));
}

std::future<delivery_report> producer::send(producer_record record) {
  auto promise = std::make_shared<std::promise<delivery_report>>();
  std::future<delivery_report> future = promise->get_future();
  impl_->send(std::move(record), [promise](const delivery_report& r) { promise->set_value(r); });
  return future;
}

void producer::send(producer_record record, delivery_callback callback) {
  impl_->send(std::move(record), std::move(callback));
}

Status producer::flush(int64_t timeout_ms) { return impl_->flush(timeout_ms); }
Status producer::close(int64_t timeout_ms) { return impl_->close(timeout_ms); }

}  // namespace kappa
