// storage::log: the append and flush paths (log_impl.h). Reads are in
// log_read.cc, recovery in log_recovery.cc, truncation and retention in
// log_truncate.cc.
#include <algorithm>

#include "proto/format/errc.h"
#include "storage/errc.h"
#include "storage/log_impl.h"

namespace kappa::storage {

Result<std::unique_ptr<log>> log::open(env& e, std::string dir, log_config config) {
  auto l = std::make_unique<log_impl>(e, std::move(dir), config);
  KAPPA_RETURN_IF_ERROR(l->recover());
  return std::unique_ptr<log>(std::move(l));
}

log_impl::log_impl(env& e, std::string dir, log_config config)
    : env_(e), dir_(std::move(dir)), config_(config) {}

Status log_impl::status() const {
  std::lock_guard lk(status_mu_);
  return status_;
}

void log_impl::fail(Status why) {
  KAPPA_ASSERT(!why.ok());
  std::lock_guard lk(status_mu_);
  if (status_.ok()) status_ = std::move(why);
  failed_.store(true, std::memory_order_release);
}

Status log_impl::check_writable() const {
  if (closed_.load(std::memory_order_acquire)) return error(errc::log_closed, dir_ + ": log is closed");
  if (failed_.load(std::memory_order_acquire)) return status();
  return Status();
}

uint64_t log_impl::reserve_bytes() const {
  // Room for the segment, one more batch past the roll threshold, and slack;
  // positions are 32-bit (offset index), so never more than that.
  uint64_t want = std::min<uint64_t>(config_.segment_bytes, UINT32_MAX) + config_.max_batch_bytes + (64 << 10);
  return want;
}

uint64_t log_impl::size_bytes() const {
  std::shared_lock lk(state_mu_);
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->readable_bytes();
  return total;
}

int log_impl::segment_count() const {
  std::shared_lock lk(state_mu_);
  return static_cast<int>(segments_.size());
}

void log_impl::set_config(const log_config& config) {
  std::lock_guard lk(append_mu_);
  config_ = config;
}

Result<format::batch_header> log_impl::validate_for_append(byte_view batch) const {
  format::validation_limits limits;
  limits.max_batch_bytes = config_.max_batch_bytes;
  auto h = format::validate_batch(batch, limits, format::validation_depth::header_and_crc);
  if (!h.ok()) {
    errc code = h.status().code() == format::errc::batch_too_large ? errc::batch_too_large : errc::invalid_batch;
    return error(code, dir_ + ": batch rejected: " + h.status().message());
  }
  if (h->size_bytes() != batch.size()) {
    return error(errc::invalid_batch, dir_ + ": buffer holds " + std::to_string(batch.size()) +
                                          " bytes but its batch is " + std::to_string(h->size_bytes()) +
                                          "; append takes exactly one batch");
  }
  return h;
}

Result<append_result> log_impl::append(mutable_byte_view batch, int32_t leader_epoch) {
  KAPPA_ASSIGN_OR_RETURN(auto h, validate_for_append(batch));
  std::unique_lock lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  const int64_t base = log_end_.load(std::memory_order_relaxed);
  format::stamp_batch(batch, base, leader_epoch);
  h.base_offset = base;
  h.partition_leader_epoch = leader_epoch;
  KAPPA_ASSIGN_OR_RETURN(auto r, append_locked(batch, h));
  const bool always = config_.flush == flush_policy::always;
  lk.unlock();
  if (always) KAPPA_RETURN_IF_ERROR(flush_to(r.last_offset + 1));
  return r;
}

Result<append_result> log_impl::append_with_offsets(byte_view batch) {
  KAPPA_ASSIGN_OR_RETURN(auto h, validate_for_append(batch));
  std::unique_lock lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  const int64_t end = log_end_.load(std::memory_order_relaxed);
  if (h.base_offset != end) {
    return error(errc::invalid_argument, dir_ + ": follower batch has base offset " +
                                             std::to_string(h.base_offset) + " but the log ends at " +
                                             std::to_string(end));
  }
  KAPPA_ASSIGN_OR_RETURN(auto r, append_locked(batch, h));
  const bool always = config_.flush == flush_policy::always;
  lk.unlock();
  if (always) KAPPA_RETURN_IF_ERROR(flush_to(r.last_offset + 1));
  return r;
}

Result<append_result> log_impl::append_locked(byte_view batch, const format::batch_header& h) {
  KAPPA_RETURN_IF_ERROR(mark_dirty_locked());
  KAPPA_RETURN_IF_ERROR(maybe_roll_locked(h));
  segment& s = *segments_.back();  // only this thread changes the list
  const uint64_t pos = s.readable_bytes();
  const uint64_t end = pos + batch.size();
  if (end > s.mapping()->bytes().size()) {
    std::unique_lock st(state_mu_);
    KAPPA_RETURN_IF_ERROR(s.ensure_mapped(end));
  }
  // Assert what we write (TigerBeetle): the bytes must still be the batch we
  // validated; a caller mutating the buffer meanwhile would corrupt the log.
  KAPPA_ASSERT(batch.size() == h.size_bytes());
  KAPPA_ASSERT(format::read_header(batch).base_offset == h.base_offset);
  KAPPA_ASSERT(format::compute_batch_crc(batch) == h.crc);

  if (Status w = s.pwrite(pos, batch); !w.ok()) {
    // A failed write may have written a prefix: cut the file back so the
    // log stays exactly what was published. If even that fails, the file
    // holds bytes the log does not describe: stop accepting writes.
    if (Status t = s.truncate_file(pos); !t.ok()) {
      fail(error(errc::log_failed, s.log_path() + ": cannot cut back a failed write at byte " +
                                       std::to_string(pos) + ": " + t.message()));
    }
    return Status(w.code(), s.log_path() + ": append at offset " + std::to_string(h.base_offset) +
                                " failed, nothing was appended: " + w.message());
  }
  const int64_t now = s.first_append_ms < 0 ? env_.now_ms() : s.first_append_ms;
  index_tracker::step step;
  {
    std::unique_lock st(state_mu_);
    step = s.tracker.on_batch(s.base_offset(), pos, h, config_.index_interval_bytes);
    if (step.offset) s.offsets.push(*step.offset);
    if (step.time) s.times.push(*step.time);
    s.publish(end);
    s.next_offset = h.last_offset() + 1;
    s.last_batch_position = pos;
    s.first_append_ms = now;
    if (!s.has_unsynced) {
      s.has_unsynced = true;
      unsynced_.push_back(segments_.back());
    }
    log_end_.store(h.last_offset() + 1, std::memory_order_release);
  }
  // The index files trail memory; failures only cost a rebuild at open.
  if (step.offset) (void)s.offsets.write_entry(s.offsets.size() - 1, *step.offset);
  if (step.time) (void)s.times.write_entry(s.times.size() - 1, *step.time);
  return append_result{h.base_offset, h.last_offset()};
}

Status log_impl::maybe_roll_locked(const format::batch_header& next) {
  const segment& s = *segments_.back();
  if (s.readable_bytes() == 0) return Status();
  const uint64_t after = s.readable_bytes() + next.size_bytes();
  const bool by_size = after > config_.segment_bytes || after > UINT32_MAX;
  const bool by_offset = next.last_offset() - s.base_offset() > INT32_MAX;
  const bool by_age = s.first_append_ms >= 0 && env_.now_ms() - s.first_append_ms >= config_.segment_ms;
  if (!by_size && !by_offset && !by_age) return Status();
  return roll_locked();
}

Status log_impl::seal_locked(segment& s) {
  std::optional<time_entry> fin;
  {
    std::unique_lock st(state_mu_);
    fin = s.tracker.final_time_entry();
    if (fin) {
      s.times.push(*fin);
      s.tracker.last_time_entry = fin->timestamp;
    }
  }
  if (fin) (void)s.times.write_entry(s.times.size() - 1, *fin);
  // Index durability is best effort: a damaged index is rebuilt at open.
  (void)s.offsets.sync();
  (void)s.times.sync();
  return Status();
}

Status log_impl::roll_locked() {
  // The rolled segment must be durable before the recovery point passes it.
  KAPPA_RETURN_IF_ERROR(flush_to(log_end_.load()));
  segment_ptr old = segments_.back();
  KAPPA_RETURN_IF_ERROR(seal_locked(*old));
  const int64_t base = log_end_.load();
  KAPPA_ASSIGN_OR_RETURN(auto created, segment::create(env_, dir_, base, reserve_bytes()));
  KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
  {
    std::unique_lock st(state_mu_);
    // Exact mappings for sealed data; on failure the reservation stays, which is also valid.
    (void)old->remap(old->readable_bytes());
    (void)old->offsets.seal(env_);
    (void)old->times.seal(env_);
    segments_.push_back(segment_ptr(std::move(created)));
  }
  recovery_point_ = base;
  // Failing to record the new recovery point only makes recovery scan more.
  (void)write_checkpoint_locked(false);
  return Status();
}

Status log_impl::mark_dirty_locked() {
  if (dirty_marked_) return Status();
  KAPPA_RETURN_IF_ERROR(write_checkpoint_locked(false));
  dirty_marked_ = true;
  return Status();
}

Status log_impl::write_checkpoint_locked(bool clean) {
  checkpoint cp;
  cp.clean = clean;
  cp.log_end_offset = log_end_.load();
  cp.log_start_offset = log_start_.load();
  cp.recovery_point = std::min(recovery_point_, cp.log_end_offset);
  const segment& a = *segments_.back();
  cp.active_base_offset = a.base_offset();
  cp.active_bytes = a.readable_bytes();
  cp.last_batch_position = a.last_batch_position;
  return write_checkpoint(env_, dir_, cp);
}

Status log_impl::flush() { return flush_to(log_end_.load(std::memory_order_acquire)); }

Status log_impl::flush_to(int64_t target) {
  if (failed_.load(std::memory_order_acquire)) return status();
  if (durable_end_.load(std::memory_order_acquire) >= target) return Status();
  std::lock_guard fl(flush_mu_);
  // Someone else's fsync may have covered us while we waited: group commit.
  if (failed_.load(std::memory_order_acquire)) return status();
  if (durable_end_.load(std::memory_order_acquire) >= target) return Status();
  std::vector<segment_ptr> to_sync;
  int64_t end;
  {
    std::unique_lock st(state_mu_);
    end = log_end_.load();
    to_sync.swap(unsynced_);
    for (auto& s : to_sync) s->has_unsynced = false;
  }
  for (auto& s : to_sync) {
    if (Status st = s->sync(); !st.ok()) {
      // fsyncgate: after a failed fsync the kernel may have dropped the dirty
      // pages, so what the page cache shows can no longer be trusted.
      Status why = error(errc::log_failed, s->log_path() + ": fsync failed, the log is failed for good: " +
                                               st.message());
      fail(why);
      return why;
    }
  }
  int64_t cur = durable_end_.load();
  while (cur < end && !durable_end_.compare_exchange_weak(cur, end)) {
  }
  return Status();
}

Status log_impl::close() {
  std::lock_guard lk(append_mu_);
  if (closed_.exchange(true)) return Status();
  // A failed or corrupt log must be scanned again at the next open.
  if (failed_.load()) return status();
  KAPPA_RETURN_IF_ERROR(flush_to(log_end_.load()));
  KAPPA_RETURN_IF_ERROR(seal_locked(*segments_.back()));
  recovery_point_ = log_end_.load();
  return write_checkpoint_locked(true);
}

}  // namespace kappa::storage
