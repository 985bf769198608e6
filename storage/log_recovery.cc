// storage::log: opening a partition directory (log_impl.h).
//
// Clean open (checkpoint says clean): trust it. Only the active segment's
// size and last batch are checked, so a large log reopens without reading
// its segments. Unclean open: validate every batch from the segment holding
// the recovery point to the end, and let batch_walk classify any damage
// (torn tail: truncate; corruption: report, change nothing).
#include <algorithm>

#include "storage/batch_walk.h"
#include "storage/errc.h"
#include "storage/log_impl.h"

namespace kappa::storage {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Status log_impl::open_segments(std::vector<segment_ptr>& out) {
  KAPPA_ASSIGN_OR_RETURN(auto names, env_.list(dir_));
  std::vector<int64_t> bases;
  for (const auto& name : names) {
    if (auto base = segment::parse_log_name(name)) {
      bases.push_back(*base);
    } else if (ends_with(name, ".tmp")) {
      // Left by an interrupted checkpoint write or segment rewrite; the
      // rename that would have published it never happened.
      KAPPA_RETURN_IF_ERROR(env_.remove(dir_ + "/" + name));
    }
  }
  std::sort(bases.begin(), bases.end());
  for (int64_t base : bases) {
    KAPPA_ASSIGN_OR_RETURN(auto s, segment::open(env_, dir_, base));
    out.push_back(segment_ptr(std::move(s)));
  }
  return Status();
}

bool log_impl::clean_checkpoint_holds(const checkpoint& cp, std::vector<segment_ptr>& segs) const {
  if (!cp.clean || segs.empty()) return false;
  const segment& a = *segs.back();
  if (a.base_offset() != cp.active_base_offset || a.readable_bytes() != cp.active_bytes) return false;
  if (cp.log_start_offset > cp.log_end_offset) return false;
  if (cp.last_batch_position == kNoBatch) return cp.active_bytes == 0 && cp.log_end_offset == a.base_offset();
  if (cp.last_batch_position >= cp.active_bytes) return false;
  auto h = format::validate_batch(a.bytes().subspan(cp.last_batch_position), recovery_limits(),
                                  format::validation_depth::header_and_crc);
  return h.ok() && cp.last_batch_position + h->size_bytes() == cp.active_bytes &&
         h->last_offset() + 1 == cp.log_end_offset;
}

Status log_impl::recover() {
  KAPPA_RETURN_IF_ERROR(env_.create_dirs(dir_));
  std::vector<segment_ptr> segs;
  KAPPA_RETURN_IF_ERROR(open_segments(segs));
  auto cp = read_checkpoint(env_, dir_);
  if (!cp.ok() && cp.status().code() != errc::not_found && cp.status().code() != errc::bad_checkpoint) {
    return cp.status();
  }
  // A missing or damaged checkpoint: recover everything from the first segment.
  int64_t start = cp.ok() ? cp->log_start_offset : (segs.empty() ? 0 : segs.front()->base_offset());

  if (segs.empty()) {
    // A checkpoint with start == end expects no data (reset() writes one
    // before it deletes the old segments).
    if (cp.ok() && cp->log_end_offset > cp->log_start_offset) {
      fail(error(errc::corruption, dir_ + ": the checkpoint says the log ends at offset " +
                                       std::to_string(cp->log_end_offset) + " but there are no segment files"));
    }
    KAPPA_ASSIGN_OR_RETURN(auto s, segment::create(env_, dir_, start, reserve_bytes()));
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
    segs.push_back(segment_ptr(std::move(s)));
    segments_ = std::move(segs);
    log_start_ = log_end_ = durable_end_ = start;
    recovery_point_ = start;
    return Status();
  }

  // Finish an interrupted reset(): its checkpoint describes an empty active
  // segment at the log start, and every remaining segment lies below it.
  bool removed = false;
  if (cp.ok() && cp->log_start_offset == cp->log_end_offset && cp->active_base_offset == cp->log_start_offset &&
      cp->active_bytes == 0 && cp->last_batch_position == kNoBatch && segs.back()->base_offset() < start) {
    for (auto it = segs.rbegin(); it != segs.rend(); ++it) KAPPA_RETURN_IF_ERROR((*it)->remove_files());
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
    segs.clear();
    KAPPA_ASSIGN_OR_RETURN(auto s, segment::create(env_, dir_, start, reserve_bytes()));
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));
    segs.push_back(segment_ptr(std::move(s)));
    segments_ = std::move(segs);
    log_start_ = log_end_ = durable_end_ = start;
    recovery_point_ = start;
    return Status();
  }
  // Finish an interrupted retention or prefix truncation: segments wholly
  // below the persisted log start are already gone as far as the log goes.
  while (segs.size() > 1 && segs[1]->base_offset() <= start) {
    KAPPA_RETURN_IF_ERROR(segs.front()->remove_files());
    segs.erase(segs.begin());
    removed = true;
  }
  if (removed) KAPPA_RETURN_IF_ERROR(env_.sync_dir(dir_));

  if (cp.ok() && clean_checkpoint_holds(*cp, segs)) {
    for (size_t i = 0; i < segs.size(); ++i) {
      const bool active = i + 1 == segs.size();
      segs[i]->load_indexes(active, active ? cp->log_end_offset : segs[i + 1]->base_offset(),
                            config_.index_interval_bytes);
    }
    segment& a = *segs.back();
    a.last_batch_position = cp->last_batch_position;
    if (a.readable_bytes() > 0) a.first_append_ms = env_.now_ms();
    KAPPA_RETURN_IF_ERROR(a.remap(std::max(reserve_bytes(), a.readable_bytes() + reserve_bytes() / 2)));
    segments_ = std::move(segs);
    log_end_ = durable_end_ = cp->log_end_offset;
    log_start_ = std::max(start, segments_.front()->base_offset());
    recovery_point_ = cp->recovery_point;
    dirty_marked_ = false;  // the first write must first record clean = false
    return Status();
  }
  // A clean checkpoint that disagrees with the files proves nothing: scan all.
  int64_t rp = cp.ok() && !cp->clean ? cp->recovery_point : segs.front()->base_offset();
  log_start_ = start;
  return recover_unclean(segs, rp);
}

Status log_impl::recover_unclean(std::vector<segment_ptr>& segs, int64_t recovery_point) {
  size_t k = 0;  // first segment to validate: the one holding the recovery point
  while (k + 1 < segs.size() && segs[k + 1]->base_offset() <= recovery_point) ++k;
  for (size_t i = 0; i < k; ++i) segs[i]->load_indexes(false, segs[i + 1]->base_offset(), config_.index_interval_bytes);

  std::vector<segment_input> inputs;
  for (size_t i = k; i < segs.size(); ++i) {
    inputs.push_back(segment_input{segs[i]->log_path(), segs[i]->base_offset(), segs[i]->bytes()});
  }
  const size_t n = inputs.size();
  std::vector<index_tracker> trackers(n);
  std::vector<std::vector<offset_entry>> offs(n);
  std::vector<std::vector<time_entry>> times(n);
  std::vector<uint64_t> last_pos(n, kNoBatch);
  const uint64_t interval = config_.index_interval_bytes;
  scan_result r = scan_segments(inputs, [&](size_t j, uint64_t pos, const format::batch_header& h) {
    auto step = trackers[j].on_batch(inputs[j].base_offset, pos, h, interval);
    if (step.offset) offs[j].push_back(*step.offset);
    if (step.time) times[j].push_back(*step.time);
    last_pos[j] = pos;
  });

  const size_t scanned = r.walks.size();  // segments k .. k+scanned-1 are kept
  bool healthy = true;
  if (r.verdict == scan_verdict::torn_tail) {
    segment& s = *segs[k + r.segment];
    KAPPA_ASSERT(k + r.segment + 1 == segs.size());
    // Nothing valid follows the damage: a write torn by the crash. Cut it off.
    KAPPA_RETURN_IF_ERROR(s.truncate_file(r.position));
    KAPPA_RETURN_IF_ERROR(s.sync());
    s.publish(r.position);
  } else if (r.verdict == scan_verdict::corruption) {
    healthy = false;
    // Keep everything on disk; expose only what precedes the damage.
    segs[k + r.segment]->publish(r.walks.back().valid_bytes);
    segs.resize(k + scanned);
    fail(error(errc::corruption, "corruption: " + r.message));
    corrupt_at_open_ = true;
  }
  for (size_t j = 0; j < scanned; ++j) {
    segment& s = *segs[k + j];
    const bool active = k + j + 1 == segs.size();
    s.tracker = trackers[j];
    s.next_offset = r.walks[j].next_offset >= 0 ? r.walks[j].next_offset : s.base_offset();
    s.last_batch_position = last_pos[j];
    if (!active) {
      if (auto fin = s.tracker.final_time_entry()) {
        times[j].push_back(*fin);
        s.tracker.last_time_entry = fin->timestamp;
      }
    }
    (void)s.offsets.replace(env_, std::move(offs[j]));
    (void)s.times.replace(env_, std::move(times[j]));
    if (!active) {
      (void)s.offsets.seal(env_);
      (void)s.times.seal(env_);
    }
  }
  segment& a = *segs.back();
  if (a.readable_bytes() > 0) a.first_append_ms = env_.now_ms();
  const int64_t end = a.next_offset;
  segments_ = std::move(segs);
  log_end_ = end;
  log_start_ = std::clamp(log_start_.load(), segments_.front()->base_offset(), end);
  if (!healthy) {
    durable_end_ = end;
    recovery_point_ = std::min(recovery_point, end);
    return Status();
  }
  KAPPA_RETURN_IF_ERROR(a.remap(std::max(reserve_bytes(), a.readable_bytes() + reserve_bytes() / 2)));
  // What was validated may sit only in the page cache of a process that
  // died: make it durable before calling it recovered.
  for (size_t j = 0; j < scanned; ++j) KAPPA_RETURN_IF_ERROR(segments_[k + j]->sync());
  durable_end_ = end;
  recovery_point_ = end;
  KAPPA_RETURN_IF_ERROR(write_checkpoint_locked(false));
  dirty_marked_ = true;
  return Status();
}

}  // namespace kappa::storage
