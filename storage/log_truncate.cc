// storage::log: truncation and retention (log_impl.h). Every change that
// moves the log start is checkpointed before segment files are deleted, and
// every deletion is made durable (sync_dir) so a crash cannot bring back a
// segment that would leave a gap in the offsets.
#include <algorithm>

#include "storage/errc.h"
#include "storage/log_impl.h"

namespace kappa::storage {

Status log_impl::truncate_suffix(int64_t offset) {
  std::lock_guard lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  const int64_t start = log_start_.load(), end = log_end_.load();
  if (offset < start || offset > end) {
    return error(errc::invalid_argument, dir_ + ": cannot truncate to offset " + std::to_string(offset) +
                                             ", outside the log's offsets " + std::to_string(start) + " to " +
                                             std::to_string(end));
  }
  if (offset == end) return Status();
  std::lock_guard fl(flush_mu_);  // no fsync may publish a durable end past the cut
  KAPPA_RETURN_IF_ERROR(mark_dirty_locked());

  size_t i;
  uint64_t cut = UINT64_MAX;
  {
    std::shared_lock st(state_mu_);
    i = find_segment(offset);
    const segment& s = *segments_[i];
    bool inside = false;
    walk_headers(s.bytes(), index_position(s, offset), [&](uint64_t p, const format::batch_header& h) {
      if (h.base_offset == offset) cut = p;
      inside = h.base_offset < offset && h.last_offset() >= offset;
      return h.base_offset < offset && !inside;
    });
    if (cut == UINT64_MAX) {
      return error(errc::invalid_argument, dir_ + ": offset " + std::to_string(offset) +
                                               " is not a batch boundary; truncate_suffix cuts whole batches");
    }
  }

  // Later segments go first, newest first, each removal made durable before
  // the next: a crash then leaves a shorter log, never one with a gap.
  while (segments_.size() > i + 1) {
    segment_ptr last = segments_.back();
    {
      std::unique_lock st(state_mu_);
      segments_.pop_back();
      std::erase(unsynced_, last);
      log_end_.store(last->base_offset());
    }
    Status rm = last->remove_files();
    if (rm.ok()) rm = env_.sync_dir(dir_);
    if (!rm.ok()) {
      Status why = error(errc::log_failed, last->log_path() + ": cannot remove segment while truncating: " +
                                               rm.message());
      fail(why);
      return why;
    }
  }

  segment_ptr s = segments_[i];
  Status cut_status;
  {
    std::unique_lock st(state_mu_);
    if (s->outside_mapping_refs() > 0) {
      // Read views still map this file: shrinking it would make their bytes
      // undefined. Write the kept prefix to a new file and rename it over;
      // the old inode keeps backing the views.
      cut_status = s->rewrite_prefix(cut, reserve_bytes());
    } else {
      cut_status = s->truncate_file(cut);
      if (cut_status.ok()) cut_status = s->sync();
      if (cut_status.ok()) {
        s->publish(cut);
        cut_status = s->remap(reserve_bytes());
      }
    }
    if (cut_status.ok()) {
      s->rebuild_indexes(config_.index_interval_bytes, false);
      KAPPA_ASSERT(s->next_offset == offset);
      log_end_.store(offset);
      int64_t d = durable_end_.load();
      durable_end_.store(std::min(d, offset));
    }
  }
  if (!cut_status.ok()) {
    Status why = error(errc::log_failed, s->log_path() + ": truncation to offset " + std::to_string(offset) +
                                             " failed: " + cut_status.message());
    fail(why);
    return why;
  }
  recovery_point_ = std::min(recovery_point_, s->base_offset());
  return write_checkpoint_locked(false);
}

Status log_impl::delete_prefix_segments_locked(size_t count, retention_result* result) {
  KAPPA_ASSERT(count < segments_.size());  // never the active segment
  for (size_t c = 0; c < count; ++c) {
    segment_ptr s;
    {
      std::unique_lock st(state_mu_);
      s = segments_.front();
      segments_.erase(segments_.begin());
      std::erase(unsynced_, s);
    }
    if (result) {
      result->segments_deleted++;
      result->bytes_deleted += s->readable_bytes();
    }
    // Read views keep their mappings; a file left behind is removed at the
    // next open, being below the persisted log start.
    KAPPA_RETURN_IF_ERROR(s->remove_files());
  }
  return count > 0 ? env_.sync_dir(dir_) : Status();
}

Status log_impl::truncate_prefix(int64_t offset) {
  std::lock_guard lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  const int64_t start = log_start_.load(), end = log_end_.load();
  if (offset > end) {
    return error(errc::invalid_argument, dir_ + ": cannot move the log start to " + std::to_string(offset) +
                                             ", past the log end " + std::to_string(end));
  }
  if (offset <= start) return Status();
  KAPPA_RETURN_IF_ERROR(mark_dirty_locked());
  size_t count = 0;
  {
    std::unique_lock st(state_mu_);
    log_start_.store(offset);
    while (count + 1 < segments_.size() && segments_[count + 1]->base_offset() <= offset) ++count;
  }
  if (Status w = write_checkpoint_locked(false); !w.ok()) {
    std::unique_lock st(state_mu_);
    log_start_.store(start);
    return w;
  }
  return delete_prefix_segments_locked(count, nullptr);
}

Result<retention_result> log_impl::enforce_retention() {
  std::lock_guard lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  const int64_t now = env_.now_ms();
  size_t count = 0;
  int64_t new_start;
  {
    std::shared_lock st(state_mu_);
    uint64_t total = 0;
    for (const auto& s : segments_) total += s->readable_bytes();
    for (; count + 1 < segments_.size(); ++count) {  // never the active segment
      const segment& s = *segments_[count];
      const bool by_time = config_.retention_ms >= 0 && s.max_timestamp() >= 0 &&
                           now - s.max_timestamp() > config_.retention_ms;
      const bool by_size = config_.retention_bytes >= 0 &&
                           total - s.readable_bytes() >= static_cast<uint64_t>(config_.retention_bytes);
      if (!by_time && !by_size) break;
      total -= s.readable_bytes();
    }
    if (count == 0) return retention_result{};
    new_start = std::max(log_start_.load(), segments_[count]->base_offset());
  }
  KAPPA_RETURN_IF_ERROR(mark_dirty_locked());
  const int64_t old_start = log_start_.load();
  {
    std::unique_lock st(state_mu_);
    log_start_.store(new_start);
  }
  if (Status w = write_checkpoint_locked(false); !w.ok()) {
    std::unique_lock st(state_mu_);
    log_start_.store(old_start);
    return w;
  }
  retention_result res;
  KAPPA_RETURN_IF_ERROR(delete_prefix_segments_locked(count, &res));
  return res;
}

}  // namespace kappa::storage
