#include "broker/partition.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>

#include "broker/errc.h"
#include "broker/metrics.h"
#include "broker/producer_state.h"
#include "broker/runtime.h"
#include "proto/format/batch_validator.h"
#include "proto/format/errc.h"
#include "proto/format/record_batch.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {

struct partition::strand_holder {
  explicit strand_holder(runtime& rt) : strand(asio::make_strand(rt.workers.get_executor())) {}
  strand_t strand;
};

struct partition::pending_ack {
  int64_t last_offset = 0;  // durable once durable_end_offset() > last_offset
  produce_result result;
  produce_callback done;
};

struct partition::strand_state {
  producer_state producers;
  std::deque<pending_ack> pending;  // in offset order
  bool flush_in_flight = false;
};

storage::log_config storage_config_for(const storage::log_config& topic_config) {
  storage::log_config c = topic_config;
  c.flush = storage::flush_policy::interval;
  return c;
}

partition::partition(storage::partition_id id, storage::log* log, storage::log_config config,
                     std::string snapshot_path, runtime& rt, metrics& m, storage::env& e)
    : id_(std::move(id)), log_(log), rt_(rt), metrics_(m), env_(e),
      snapshot_path_(std::move(snapshot_path)), strand_(std::make_unique<strand_holder>(rt)),
      config_(config), s_(std::make_unique<strand_state>()) {}

partition::~partition() = default;

Result<std::shared_ptr<partition>> partition::open(storage::partition_id id, storage::log* log,
                                                   storage::log_config config,
                                                   std::string snapshot_path, runtime& rt,
                                                   metrics& m, storage::env& e) {
  log->set_config(storage_config_for(config));
  std::shared_ptr<partition> p(
      new partition(std::move(id), log, config, std::move(snapshot_path), rt, m, e));
  // Whatever recovery kept is on disk; on one node it is all committed.
  p->high_watermark_.store(log->log_end_offset());
  KAPPA_RETURN_IF_ERROR(p->load_producer_state());
  return p;
}

storage::log_config partition::config() const {
  std::lock_guard lk(config_mu_);
  return config_;
}

Status partition::load_producer_state() {
  int64_t from = log_->log_start_offset();
  auto snap = storage::read_metadata_file(env_, snapshot_path_);
  if (snap.ok()) {
    auto covered = s_->producers.decode(snap->payload);
    // A snapshot past the log end means the tail it saw was lost (a torn
    // tail after a crash): it may remember batches that are gone, so rebuild.
    if (covered.ok() && *covered <= log_->log_end_offset()) {
      from = std::max(from, *covered);
    } else {
      spdlog::warn("{}: ignoring producer state snapshot ({}); rebuilding from the log",
                   id_.dir_name(), covered.ok() ? "past the log end" : covered.status().message());
      s_->producers = producer_state();
    }
  } else if (snap.status().code() != storage::errc::not_found) {
    spdlog::warn("{}: {}; rebuilding producer state from the log", id_.dir_name(),
                 snap.status().message());
  }
  // Replay batch headers after the snapshot: bounded by the log's size.
  const int64_t end = log_->log_end_offset();
  int64_t replayed = 0;
  while (from < end) {
    KAPPA_ASSIGN_OR_RETURN(auto view, log_->read(from, size_t{4} << 20));
    if (view.batches.empty()) break;
    byte_view b = view.batches;
    while (b.size() >= format::kBatchHeaderBytes) {
      const format::batch_header h = format::read_header(b);
      if (h.size_bytes() > b.size()) break;
      s_->producers.observe(h);
      ++replayed;
      b = b.subspan(h.size_bytes());
    }
    KAPPA_ASSERT(view.next_offset > from);
    from = view.next_offset;
  }
  if (replayed > 0) {
    spdlog::debug("{}: producer state rebuilt from {} batches", id_.dir_name(), replayed);
  }
  return Status();
}

Status partition::save_producer_state() {
  return storage::write_metadata_file(env_, snapshot_path_, 1,
                                      s_->producers.encode(log_->log_end_offset()));
}

void partition::retire(std::function<void()> remove_log, std::function<void()> done) {
  asio::post(strand_->strand, [self = shared_from_this(), remove_log = std::move(remove_log),
                               done = std::move(done)] {
    {
      std::unique_lock lk(self->life_mu_);
      self->retired_ = true;
    }
    for (auto& p : self->s_->pending) {
      p.done(produce_result{error(errc::unknown_topic_or_partition,
                                  self->id_.dir_name() + " was deleted"), -1, -1});
    }
    self->s_->pending.clear();
    self->wake_all();
    // Every later use of log_ sees retired_ first (strand code, or readers
    // under life_mu_), so the log can go now.
    remove_log();
    (void)self->env_.remove(self->snapshot_path_);
    done();
  });
}

int64_t partition::log_start_offset() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? -1 : log_->log_start_offset();
}
int64_t partition::log_end_offset() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? -1 : log_->log_end_offset();
}
uint64_t partition::size_bytes() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? 0 : log_->size_bytes();
}
int partition::segment_count() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? 0 : log_->segment_count();
}

Status partition::gone() const {
  return error(errc::unknown_topic_or_partition, id_.dir_name() + " was deleted");
}

void partition::produce(std::string records, acks_mode acks, produce_callback done) {
  asio::post(strand_->strand, [self = shared_from_this(), records = std::move(records), acks,
                               done = std::move(done)]() mutable {
    self->produce_on_strand(records, acks, done);
  });
}

void partition::produce_on_strand(std::string& records, acks_mode acks, produce_callback& done) {
  const storage::log_config cfg = config();
  auto fail = [&](Status st) {
    done(produce_result{std::move(st), -1, log_->log_start_offset()});
  };
  if (retired_) return done(produce_result{gone(), -1, -1});
  if (Status st = log_->status(); !st.ok()) return fail(error(errc::storage_error, st.message()));

  format::validation_limits limits;
  limits.max_batch_bytes = cfg.max_batch_bytes;
  auto headers = format::validate_batches(as_bytes(records), limits, format::validation_depth::records);
  if (!headers.ok()) {
    const bool too_large = headers.status().code() == format::errc::batch_too_large;
    return fail(error(too_large ? errc::message_too_large : errc::corrupt_message,
                      headers.status().message()));
  }
  if (headers->empty()) return fail(error(errc::corrupt_message, "no record batch in the request"));

  int64_t base = -1;
  int64_t last = -1;
  size_t pos = 0;
  for (format::batch_header h : *headers) {
    const size_t n = h.size_bytes();
    mutable_byte_view batch(reinterpret_cast<uint8_t*>(records.data()) + pos, n);
    pos += n;
    sequence_check c = s_->producers.check(h);
    if (c.what == sequence_check::kind::reject) return fail(c.error);
    if (c.what == sequence_check::kind::duplicate) {
      // A retry of a stored batch: answer with where it went.
      if (base < 0) base = c.original.base_offset;
      last = std::max(last, c.original.last_offset);
      continue;
    }
    auto r = log_->append(batch, /*leader_epoch=*/0);
    if (!r.ok()) {
      spdlog::error("{}: append failed: {}", id_.dir_name(), r.status().message());
      return fail(r.status());  // api_error_code() maps it (KAFKA_STORAGE_ERROR etc.)
    }
    h.base_offset = r->base_offset;
    s_->producers.observe(h);
    metrics_.bytes_in(n);
    if (base < 0) base = r->base_offset;
    last = r->last_offset;
  }

  produce_result result{Status(), base, log_->log_start_offset()};
  if (cfg.flush == storage::flush_policy::interval) {
    advance_high_watermark(log_->log_end_offset());
    done(std::move(result));
    return;
  }
  // flush.policy=always: every ack waits for the fsync, and so does the high
  // watermark (nobody may read what a crash could take back). An all-
  // duplicate request waits too: its batches may not be durable yet.
  (void)acks;
  if (last < log_->durable_end_offset()) {
    done(std::move(result));
    return;
  }
  if (s_->pending.size() >= kPendingAcksMax) {
    // Cannot happen unless fsyncs stall; the data is appended, so the client
    // must not assume it lost: it retries and the producer state dedups.
    return fail(error(errc::request_timed_out, "too many appends awaiting fsync"));
  }
  s_->pending.push_back({last, std::move(result), std::move(done)});
  request_flush();
}

void partition::request_flush() {
  if (s_->flush_in_flight) return;  // the flush that returns next starts another
  s_->flush_in_flight = true;
  asio::post(rt_.flushers, [self = shared_from_this()] {
    const auto t0 = std::chrono::steady_clock::now();
    Status st;
    {
      std::shared_lock lk(self->life_mu_);  // retire() waits for this fsync
      if (!self->retired_) st = self->log_->flush();
    }
    self->metrics_.fsync(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    asio::post(self->strand_->strand, [self, st = std::move(st)]() mutable {
      self->on_flushed(std::move(st));
    });
  });
}

void partition::on_flushed(Status st) {
  s_->flush_in_flight = false;
  if (retired_) return;
  if (!st.ok()) {
    spdlog::error("{}: fsync failed: {}", id_.dir_name(), st.message());
    for (auto& p : s_->pending) {
      p.done(produce_result{error(errc::storage_error, st.message()), -1, log_->log_start_offset()});
    }
    s_->pending.clear();
    return;
  }
  const int64_t durable = log_->durable_end_offset();
  advance_high_watermark(durable);
  while (!s_->pending.empty() && s_->pending.front().last_offset < durable) {
    pending_ack p = std::move(s_->pending.front());
    s_->pending.pop_front();
    p.done(std::move(p.result));
  }
  if (!s_->pending.empty()) request_flush();
}

void partition::advance_high_watermark(int64_t hw) {
  // Monotonic except through truncation, which one node never does.
  int64_t cur = high_watermark_.load();
  if (hw <= cur) return;
  high_watermark_.store(hw, std::memory_order_release);
  wake_all();
}

Result<storage::read_view> partition::read(int64_t offset, size_t max_bytes) const {
  std::shared_lock lk(life_mu_);
  if (retired_) return gone();
  const int64_t hw = high_watermark();
  const int64_t start = log_->log_start_offset();
  if (offset < start || offset > hw) {
    return error(errc::offset_out_of_range,
                 "offset " + std::to_string(offset) + " is outside the valid range [" +
                     std::to_string(start) + ", " + std::to_string(hw) + "] of " + id_.dir_name());
  }
  if (offset == hw) return storage::read_view{nullptr, {}, offset};
  auto r = log_->read(offset, max_bytes, hw);
  if (!r.ok() && r.status().code() == storage::errc::offset_out_of_range) {
    // Retention moved the start between our check and the read.
    return error(errc::offset_out_of_range, r.status().message());
  }
  return r;
}

Result<std::optional<int64_t>> partition::offset_for_timestamp(int64_t timestamp_ms) const {
  std::shared_lock lk(life_mu_);
  if (retired_) return gone();
  KAPPA_ASSIGN_OR_RETURN(auto off, log_->offset_for_timestamp(timestamp_ms));
  if (off && *off >= high_watermark()) return std::optional<int64_t>();
  return off;
}

uint64_t partition::add_waiter(std::function<void()> wake) {
  std::lock_guard lk(waiters_mu_);
  if (waiters_.size() >= kWaitersMax) return 0;
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void partition::remove_waiter(uint64_t id) {
  std::lock_guard lk(waiters_mu_);
  waiters_.erase(id);
}

void partition::wake_all() {
  std::map<uint64_t, std::function<void()>> woken;
  {
    std::lock_guard lk(waiters_mu_);
    woken.swap(waiters_);
  }
  for (auto& [_, w] : woken) asio::post(rt_.workers, std::move(w));
}

void partition::set_config(const storage::log_config& config) {
  {
    std::lock_guard lk(config_mu_);
    config_ = config;
  }
  asio::post(strand_->strand, [self = shared_from_this(), config] {
    if (!self->retired_) self->log_->set_config(storage_config_for(config));
  });
}

void partition::delete_records(int64_t before_offset, std::function<void(Result<int64_t>)> done) {
  asio::post(strand_->strand, [self = shared_from_this(), before_offset, done = std::move(done)] {
    if (self->retired_) return done(self->gone());
    const int64_t hw = self->high_watermark();
    const int64_t target = before_offset == -1 ? hw : before_offset;
    if (target < 0 || target > hw) {
      return done(error(errc::offset_out_of_range,
                        "before_offset " + std::to_string(before_offset) +
                            " is outside [0, " + std::to_string(hw) + "] (-1 = high watermark)"));
    }
    if (target <= self->log_->log_start_offset()) return done(self->log_->log_start_offset());
    Status st = self->log_->truncate_prefix(target);
    if (!st.ok()) return done(st);
    done(self->log_->log_start_offset());
  });
}

}  // namespace kappa::broker
