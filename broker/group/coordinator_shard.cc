#include "broker/group/coordinator_shard.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/clock.h"
#include "broker/partition.h"
#include "broker/partition_manager.h"
#include "proto/format/records.h"

namespace kappa::broker::group {
namespace {

constexpr int kLoadRetryMs = 10;
constexpr int kLoadErrorRetryMs = 200;
constexpr size_t kReplayReadBytes = size_t{1} << 20;

// The records as one or more RecordBatch v2 batches (each under
// kBatchRecordBytesMax of payload, so no batch nears max.message.bytes),
// concatenated: partition::produce appends each and answers after the last.
Result<std::string> build_batches(const records& rs) {
  std::string out;
  std::vector<format::record> batch;
  size_t bytes = 0;
  const int64_t now = wall_ms();
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status();
    format::batch_options o;  // no producer id: the coordinator is the only writer
    KAPPA_ASSIGN_OR_RETURN(byte_buffer b, format::build_batch(o, batch));
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
    batch.clear();
    bytes = 0;
    return Status();
  };
  for (const auto& r : rs) {
    const size_t n = r.key.size() + (r.value ? r.value->size() : 0);
    if (bytes > 0 && bytes + n > kBatchRecordBytesMax) KAPPA_RETURN_IF_ERROR(flush());
    batch.push_back(format::record{r.key, r.value, {}, now});
    bytes += n;
  }
  KAPPA_RETURN_IF_ERROR(flush());
  return out;
}

}  // namespace

hosted_shard::hosted_shard(partition_manager& pm, std::shared_ptr<partition> part, int32_t index,
                           int32_t epoch, shard_options options)
    : pm_(pm),
      part_(std::move(part)),
      index_(index),
      epoch_(epoch),
      options_(options),
      strand_(asio::make_strand(pm.rt().workers.get_executor())),
      load_timer_(strand_) {}

void hosted_shard::start() {
  asio::post(strand_, [self = shared_from_this()] { self->load_step(); });
}

void hosted_shard::stop() {
  stopped_.store(true, std::memory_order_release);
  ready_.store(false, std::memory_order_release);
  asio::post(strand_, [self = shared_from_this()] {
    self->load_timer_.cancel();
    self->shard_.reset();
    ++self->generation_;
    self->fail_pending(v1::NOT_COORDINATOR,
                       "this broker no longer leads __consumer_offsets-" +
                           std::to_string(self->index_));
  });
}

void hosted_shard::schedule_load(int delay_ms) {
  load_timer_.expires_after(std::chrono::milliseconds(delay_ms));
  load_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->load_step();
  });
}

void hosted_shard::load_step() {
  if (stopped()) return;
  // Not (yet, or any longer) the leader of this epoch: the coordinator's
  // poll drops this shard when the epoch moved on; keep waiting meanwhile.
  if (!part_->is_leader() || part_->leader_epoch() != epoch_) return schedule_load(kLoadRetryMs);
  // A new leader's high watermark reaches its log end once the first entry
  // of its term commits; everything before it is then committed too, so
  // replaying up to the high watermark sees every record of earlier terms
  // (and every append of this shard before a rebuild).
  const int64_t hw = part_->high_watermark();
  if (hw < part_->log_end_offset()) return schedule_load(kLoadRetryMs);
  const auto t0 = std::chrono::steady_clock::now();
  shard_ = std::make_unique<group_shard>(options_);
  if (Status st = replay_all(hw); !st.ok()) {
    spdlog::warn("__consumer_offsets-{}: replay failed ({}); retrying", index_, st.message());
    shard_.reset();
    return schedule_load(kLoadErrorRetryMs);
  }
  shard_->loaded(steady_ms());
  ready_.store(true, std::memory_order_release);
  spdlog::info("__consumer_offsets-{}: coordinator loaded up to offset {} at epoch {} in {} ms",
               index_, hw, epoch_,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count());
}

Status hosted_shard::replay_all(int64_t high_watermark) {
  int64_t offset = part_->log_start_offset();
  int64_t bad = 0;
  while (offset < high_watermark) {
    KAPPA_ASSIGN_OR_RETURN(storage::read_view view, part_->read(offset, kReplayReadBytes));
    if (view.batches.empty()) break;
    byte_view b = view.batches;
    while (b.size() >= format::kBatchHeaderBytes) {
      const format::batch_header h = format::read_header(b);
      if (h.size_bytes() > b.size()) break;
      const byte_view batch = b.first(h.size_bytes());
      b = b.subspan(h.size_bytes());
      if (h.is_control() || h.last_offset() < offset) continue;
      byte_buffer scratch;
      KAPPA_ASSIGN_OR_RETURN(std::vector<format::record_view> rs,
                             format::decode_records(batch, scratch));
      for (const auto& r : rs) {
        if (r.offset < offset || !r.key) continue;
        std::optional<std::string_view> value;
        if (r.value) value = as_chars(*r.value);
        if (Status st = shard_->replay(as_chars(*r.key), value); !st.ok()) {
          // One bad record does not lose the rest of the state.
          if (bad++ < 10) {
            spdlog::error("__consumer_offsets-{}: record at offset {} skipped: {}", index_,
                          r.offset, st.message());
          }
        }
      }
    }
    if (view.next_offset <= offset) break;
    offset = view.next_offset;
  }
  return Status();
}

void hosted_shard::run(shard_call call,
                       std::function<void(v1::ErrorCode, const std::string&)> not_ready) {
  asio::post(strand_, [self = shared_from_this(), call = std::move(call),
                       not_ready = std::move(not_ready)]() mutable {
    if (self->stopped()) {
      return not_ready(v1::NOT_COORDINATOR, "this broker no longer leads __consumer_offsets-" +
                                                std::to_string(self->index_));
    }
    // Leadership lost since the last poll: no answer from a state that a
    // new leader may already be changing.
    if (!self->part_->is_leader() || self->part_->leader_epoch() != self->epoch_) {
      return not_ready(v1::NOT_COORDINATOR, "this broker no longer leads __consumer_offsets-" +
                                                std::to_string(self->index_) + " at epoch " +
                                                std::to_string(self->epoch_));
    }
    if (!self->shard_ || !self->ready()) {
      return not_ready(v1::COORDINATOR_LOAD_IN_PROGRESS,
                       "the coordinator is loading __consumer_offsets-" +
                           std::to_string(self->index_) + "; retry");
    }
    records out;
    completion c = call(*self->shard_, out);
    if (!out.empty()) return self->append(std::move(out), {std::move(c)});
    // Nothing to write, but the answer may show state whose records are
    // not committed yet: it waits for the appends before it.
    if (!self->pending_.empty()) return self->pending_.back().waiters.push_back(std::move(c));
    c.reply();
  });
}

void hosted_shard::tick(std::shared_ptr<const topics_view> topics) {
  asio::post(strand_, [self = shared_from_this(), topics = std::move(topics)] {
    if (self->stopped() || !self->shard_ || !self->ready()) return;
    records out;
    self->shard_->tick(*topics, steady_ms(), wall_ms(), out);
    if (!out.empty()) self->append(std::move(out), {});
  });
}

void hosted_shard::append(records out, std::vector<completion> waiters) {
  auto bytes = build_batches(out);
  const uint64_t seq = next_seq_++;
  pending_.push_back(pending_append{seq, false, std::move(waiters)});
  if (!bytes.ok()) {
    return on_appended(generation_, seq, bytes.status());
  }
  part_->produce(std::move(*bytes), acks_mode::all, kAppendTimeoutMs,
                 [self = shared_from_this(), generation = generation_, seq](produce_result r) {
                   asio::post(self->strand_, [self, generation, seq, st = std::move(r.status)] {
                     self->on_appended(generation, seq, st);
                   });
                 });
}

void hosted_shard::on_appended(uint64_t generation, uint64_t seq, const Status& st) {
  if (generation != generation_) return;  // failed already, at a rebuild or stop
  if (!st.ok()) {
    return rebuild("append to __consumer_offsets-" + std::to_string(index_) +
                   " failed: " + st.message());
  }
  for (auto& p : pending_) {
    if (p.seq == seq) p.done = true;
  }
  // Commits come in offset order; answering only from the front keeps the
  // rule "after everything emitted before" even if they did not.
  while (!pending_.empty() && pending_.front().done) {
    std::vector<completion> ws = std::move(pending_.front().waiters);
    pending_.pop_front();
    for (auto& w : ws) w.reply();
  }
}

void hosted_shard::fail_pending(v1::ErrorCode code, const std::string& message) {
  std::deque<pending_append> pending = std::move(pending_);
  pending_.clear();
  for (auto& p : pending) {
    for (auto& w : p.waiters) w.fail(code, message);
  }
}

void hosted_shard::rebuild(const std::string& why) {
  spdlog::warn("__consumer_offsets-{}: {}; rebuilding the groups by replay", index_, why);
  ++generation_;
  ready_.store(false, std::memory_order_release);
  shard_.reset();
  // The in-memory state ran ahead of the log: whatever is pending may or
  // may not commit. The callers retry; the replay shows what did.
  fail_pending(v1::COORDINATOR_NOT_AVAILABLE, why + "; retry");
  if (!stopped()) load_step();
}

}  // namespace kappa::broker::group
