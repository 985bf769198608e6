// storage::log: restarting a log empty at a new start (reset) and repairing
// the corruption found at open (log_impl.h). Both exist for replication: a
// replica can refetch from its peers whatever these drop.
#include <algorithm>

#include "storage/batch_walk.h"
#include "storage/errc.h"
#include "storage/log_impl.h"

namespace kappa::storage {

namespace {

// The end offset of valid batches found anywhere in bytes[from..], or -1.
// Byte by byte, as a torn-tail search does (batch_walk.cc): damage gives no
// alignment. The CRC does not cover baseOffset, so a batch counts only when
// its offsets are plausible: at or above `floor`, and not further above it
// than the bytes scanned so far could hold (`*budget`, one offset per byte).
int64_t valid_end_in(byte_view bytes, uint64_t from, int64_t floor, uint64_t* budget) {
  const auto limits = recovery_limits();
  int64_t end = -1;
  uint64_t p = from;
  uint64_t counted = from;
  while (p + format::kBatchHeaderBytes <= bytes.size()) {
    const uint8_t* b = bytes.data() + p;
    if (static_cast<int8_t>(b[format::pos::magic]) == format::kMagicV2) {
      auto h = format::validate_batch(bytes.subspan(p), limits,
                                      format::validation_depth::header_and_crc);
      if (h.ok()) {
        *budget += p + h->size_bytes() - counted;
        counted = p + h->size_bytes();
        if (h->base_offset >= floor && static_cast<uint64_t>(h->last_offset() - floor) < *budget) {
          end = std::max(end, h->last_offset() + 1);
        }
        p += h->size_bytes();
        continue;
      }
    }
    ++p;
  }
  if (bytes.size() > counted) *budget += bytes.size() - counted;
  return end;
}

}  // namespace

int64_t log_impl::end_past_damage() const {
  const segment& d = *segments_.back();
  const int64_t floor = log_end_.load();
  uint64_t budget = 0;
  // The damaged segment's mapping covers its whole file (open maps exactly
  // the file size); only the valid prefix is published.
  int64_t end = valid_end_in(d.mapping()->bytes(), d.readable_bytes(), floor, &budget);
  auto names = env_.list(dir_);
  if (!names.ok()) return end;
  std::vector<int64_t> later;
  for (const auto& n : *names) {
    if (auto base = segment::parse_log_name(n); base && *base > d.base_offset())
      later.push_back(*base);
  }
  std::sort(later.begin(), later.end());
  for (int64_t base : later) {
    auto s = segment::open(env_, dir_, base);
    if (!s.ok()) continue;
    end = std::max(end, valid_end_in((*s)->mapping()->bytes(), 0, floor, &budget));
  }
  return end;
}

Status log_impl::remove_segment_files_after(int64_t base) {
  KAPPA_ASSIGN_OR_RETURN(auto names, env_.list(dir_));
  std::vector<int64_t> later;
  for (const auto& n : names) {
    if (auto b = segment::parse_log_name(n); b && *b > base) later.push_back(*b);
  }
  // Newest first, each removal durable before the next: a crash leaves a
  // shorter tail, never a gap.
  std::sort(later.rbegin(), later.rend());
  for (int64_t b : later) {
    for (const char* ext : {".index", ".timeindex", ".log"}) {
      const std::string path = dir_ + "/" + segment::file_name(b, ext);
      if (env_.exists(path)) KAPPA_RETURN_IF_ERROR(env_.remove(path));
    }
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
  }
  return Status();
}

Result<corruption_repair> log_impl::repair_corruption() {
  std::lock_guard lk(append_mu_);
  if (closed_.load()) return error(errc::log_closed, dir_ + ": log is closed");
  if (!corrupt_at_open_) {
    return error(errc::invalid_argument, dir_ + ": no corruption found at open to repair");
  }
  std::lock_guard fl(flush_mu_);
  corruption_repair out;
  out.truncated_at = log_end_.load();
  out.end_before = std::max(out.truncated_at, end_past_damage());

  // A damaged segment that kept nothing and does not continue the log (its
  // base offset is past the expected one) goes entirely.
  if (segments_.size() > 1 && segments_.back()->readable_bytes() == 0 &&
      segments_.back()->base_offset() != out.truncated_at) {
    std::unique_lock st(state_mu_);
    segments_.pop_back();
  }
  segment_ptr a = segments_.back();
  KAPPA_RETURN_IF_ERROR(remove_segment_files_after(a->base_offset()));
  {
    std::unique_lock st(state_mu_);
    const uint64_t keep = a->readable_bytes();
    Status cut = a->outside_mapping_refs() > 0 ? a->rewrite_prefix(keep, reserve_bytes())
                                               : a->truncate_file(keep);
    if (cut.ok()) cut = a->sync();
    if (cut.ok() && a->outside_mapping_refs() == 0)
      cut = a->remap(std::max(reserve_bytes(), keep + reserve_bytes() / 2));
    if (!cut.ok()) {
      return error(errc::log_failed,
                   a->log_path() + ": cannot cut off the damaged bytes: " + cut.message());
    }
    a->rebuild_indexes(config_.index_interval_bytes, false);
    KAPPA_ASSERT(a->next_offset == out.truncated_at);
    if (a->readable_bytes() > 0) a->first_append_ms = env_.now_ms();
    unsynced_.clear();
  }
  KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
  durable_end_.store(out.truncated_at);
  recovery_point_ = out.truncated_at;
  KAPPA_RETURN_IF_ERROR(write_checkpoint_locked(false));
  dirty_marked_ = true;
  {
    std::lock_guard s(status_mu_);
    status_ = Status();
  }
  failed_.store(false, std::memory_order_release);
  corrupt_at_open_ = false;
  return out;
}

Status log_impl::reset(int64_t new_start) {
  std::lock_guard lk(append_mu_);
  KAPPA_RETURN_IF_ERROR(check_writable());
  if (new_start < 0)
    return error(errc::invalid_argument, dir_ + ": cannot restart the log at a negative offset");
  std::lock_guard fl(flush_mu_);
  // 1. Segments at or past new_start go first (newest first), so every
  // remaining one lies below new_start: the interrupted-reset rule of
  // recovery (log_recovery.cc) then applies.
  while (segments_.size() > 1 && segments_.back()->base_offset() >= new_start) {
    segment_ptr last = segments_.back();
    {
      std::unique_lock st(state_mu_);
      segments_.pop_back();
      std::erase(unsynced_, last);
      log_end_.store(last->base_offset());
      durable_end_.store(std::min(durable_end_.load(), last->base_offset()));
    }
    KAPPA_RETURN_IF_ERROR(last->remove_files());
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
  }
  // The one segment left starts at or past new_start: empty it instead, so
  // a crash from here on finds no data of the old log there either.
  if (segment_ptr s = segments_.back(); s->base_offset() >= new_start && s->readable_bytes() > 0) {
    std::unique_lock st(state_mu_);
    Status cut =
        s->outside_mapping_refs() > 0 ? s->rewrite_prefix(0, reserve_bytes()) : s->truncate_file(0);
    if (cut.ok()) cut = s->sync();
    if (!cut.ok()) {
      Status why = error(errc::log_failed,
                         s->log_path() + ": reset cannot empty the segment: " + cut.message());
      st.unlock();
      fail(why);
      return why;
    }
    s->publish(0);
    s->rebuild_indexes(config_.index_interval_bytes, false);
    std::erase(unsynced_, s);
    log_end_.store(s->base_offset());
    durable_end_.store(std::min(durable_end_.load(), s->base_offset()));
  }
  // 2. The checkpoint of the empty log: from here a crash reopens empty at new_start.
  checkpoint cp;
  cp.clean = false;
  cp.recovery_point = new_start;
  cp.log_start_offset = new_start;
  cp.log_end_offset = new_start;
  cp.active_base_offset = new_start;
  cp.active_bytes = 0;
  cp.last_batch_position = kNoBatch;
  KAPPA_RETURN_IF_ERROR(write_checkpoint(env_, dir_, cp));
  // 3. Drop the old segments' files (readers keep their mappings and the
  // list stays non-empty for them), then publish the new active segment.
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (Status rm = (*it)->remove_files(); !rm.ok()) {
      Status why = error(errc::log_failed,
                         dir_ + ": reset cannot remove " + (*it)->log_path() + ": " + rm.message());
      fail(why);
      return why;
    }
  }
  auto created = segment::create(env_, dir_, new_start, reserve_bytes());
  Status synced = created.ok() ? env_.sync_dir(dir_) : created.status();
  if (!synced.ok()) {
    Status why =
        error(errc::log_failed, dir_ + ": reset cannot create its segment: " + synced.message());
    fail(why);
    return why;
  }
  {
    std::unique_lock st(state_mu_);
    segments_.clear();
    unsynced_.clear();
    segments_.push_back(segment_ptr(std::move(created).value()));
    log_start_.store(new_start);
    log_end_.store(new_start);
    durable_end_.store(new_start);
  }
  recovery_point_ = new_start;
  dirty_marked_ = true;  // the checkpoint written above is not clean
  return Status();
}

}  // namespace kappa::storage
