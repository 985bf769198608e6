#include "storage/segment.h"

#include <cinttypes>
#include <cstdio>

#include "storage/errc.h"

namespace kappa::storage {

index_tracker::step index_tracker::on_batch(int64_t segment_base, uint64_t position,
                                            const format::batch_header& h,
                                            uint64_t index_interval_bytes) {
  step s;
  const auto rel = static_cast<uint32_t>(h.base_offset - segment_base);
  if (h.max_timestamp > max_timestamp) {
    max_timestamp = h.max_timestamp;
    max_timestamp_relative = rel;
  }
  if (position > 0 && bytes_since_entry >= index_interval_bytes) {
    s.offset = offset_entry{rel, static_cast<uint32_t>(position)};
    if (max_timestamp > last_time_entry) {
      s.time = time_entry{max_timestamp, max_timestamp_relative};
      last_time_entry = max_timestamp;
    }
    bytes_since_entry = 0;
  }
  bytes_since_entry += h.size_bytes();
  return s;
}

std::optional<time_entry> index_tracker::final_time_entry() const {
  if (max_timestamp <= last_time_entry) return std::nullopt;
  return time_entry{max_timestamp, max_timestamp_relative};
}

std::string segment::file_name(int64_t base_offset, const char* extension) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%020" PRId64 "%s", base_offset, extension);
  return buf;
}

std::optional<int64_t> segment::parse_log_name(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".log") != 0) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

segment::segment(env& e, std::string dir, int64_t base_offset)
    : offsets(dir + "/" + file_name(base_offset, ".index")),
      times(dir + "/" + file_name(base_offset, ".timeindex")),
      next_offset(base_offset),
      env_(&e),
      dir_(std::move(dir)),
      base_offset_(base_offset),
      log_path_(dir_ + "/" + file_name(base_offset, ".log")) {}

Status segment::open_files(open_mode mode) {
  KAPPA_ASSIGN_OR_RETURN(file_, env_->open(log_path_, mode));
  return Status();
}

Result<std::unique_ptr<segment>> segment::create(env& e, const std::string& dir, int64_t base_offset,
                                                 uint64_t reserve_bytes) {
  std::unique_ptr<segment> s(new segment(e, dir, base_offset));
  KAPPA_RETURN_IF_ERROR(s->open_files(open_mode::read_write));
  KAPPA_RETURN_IF_ERROR(s->file_->truncate(0));
  // Stale index files of the same name (an earlier life of this offset)
  // must not describe the new segment.
  KAPPA_RETURN_IF_ERROR(s->offsets.replace(e, {}));
  KAPPA_RETURN_IF_ERROR(s->times.replace(e, {}));
  KAPPA_ASSIGN_OR_RETURN(s->map_, s->file_->map(reserve_bytes));
  return s;
}

Result<std::unique_ptr<segment>> segment::open(env& e, const std::string& dir, int64_t base_offset) {
  std::unique_ptr<segment> s(new segment(e, dir, base_offset));
  KAPPA_RETURN_IF_ERROR(s->open_files(open_mode::read_write));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, s->file_->size());
  KAPPA_ASSIGN_OR_RETURN(s->map_, s->file_->map(size));
  s->readable_bytes_ = size;
  return s;
}

Status segment::ensure_mapped(uint64_t length) {
  uint64_t have = map_->bytes().size();
  if (length <= have) return Status();
  KAPPA_RETURN_IF_ERROR(remap(std::max(length, have * 2)));
  // An env may cap mappings (mem_env's per-file reservation); never publish
  // bytes the mapping cannot show.
  if (map_->bytes().size() < length) {
    return error(errc::log_failed, log_path_ + ": cannot map " + std::to_string(length) +
                                       " bytes (the env mapped " + std::to_string(map_->bytes().size()) + ")");
  }
  return Status();
}

Status segment::remap(uint64_t length) {
  KAPPA_ASSIGN_OR_RETURN(auto m, file_->map(length));
  map_ = std::move(m);
  return Status();
}

Status segment::rewrite_prefix(uint64_t length, uint64_t map_length) {
  KAPPA_ASSERT(length <= readable_bytes_);
  const std::string tmp = log_path_ + ".tmp";
  {
    KAPPA_ASSIGN_OR_RETURN(auto f, env_->open(tmp, open_mode::read_write));
    KAPPA_RETURN_IF_ERROR(f->truncate(0));
    if (length > 0) KAPPA_RETURN_IF_ERROR(f->pwrite(0, map_->bytes().first(length)));
    KAPPA_RETURN_IF_ERROR(f->sync());
  }
  KAPPA_RETURN_IF_ERROR(env_->rename(tmp, log_path_));
  KAPPA_RETURN_IF_ERROR(env_->sync_dir(dir_));
  KAPPA_RETURN_IF_ERROR(open_files(open_mode::read_write));
  KAPPA_ASSIGN_OR_RETURN(auto m, file_->map(map_length));
  map_ = std::move(m);
  readable_bytes_ = length;
  return Status();
}

Status segment::remove_files() {
  for (const std::string& p : {offsets.path(), times.path(), log_path_}) {
    if (env_->exists(p)) KAPPA_RETURN_IF_ERROR(env_->remove(p));
  }
  return Status();
}

void segment::rebuild_indexes(uint64_t index_interval_bytes, bool sealed) {
  std::vector<offset_entry> offs;
  std::vector<time_entry> ts;
  tracker = index_tracker{};
  last_batch_position = UINT64_MAX;
  int64_t next = base_offset_;
  walk_headers(bytes(), 0, [&](uint64_t pos, const format::batch_header& h) {
    if (h.base_offset != next) return false;  // not this segment's sequence: stop indexing here
    auto st = tracker.on_batch(base_offset_, pos, h, index_interval_bytes);
    if (st.offset) offs.push_back(*st.offset);
    if (st.time) ts.push_back(*st.time);
    next = h.last_offset() + 1;
    last_batch_position = pos;
    return true;
  });
  next_offset = next;
  if (sealed) {
    if (auto fin = tracker.final_time_entry()) {
      ts.push_back(*fin);
      tracker.last_time_entry = fin->timestamp;
    }
  }
  // Advisory files: a failure to write them costs a rebuild at the next open.
  (void)offsets.replace(*env_, std::move(offs));
  (void)times.replace(*env_, std::move(ts));
}

void segment::load_indexes(bool active, int64_t next, uint64_t index_interval_bytes) {
  next_offset = next;
  const bool present = env_->exists(offsets.path()) && env_->exists(times.path());
  Status st = active ? offsets.load_active(*env_) : offsets.load_sealed(*env_);
  if (st.ok()) st = active ? times.load_active(*env_) : times.load_sealed(*env_);
  if (st.ok()) st = check_offset_index(offsets, base_offset_, bytes());
  if (st.ok()) st = check_time_index(times, next - base_offset_);
  if (st.ok() && !present && readable_bytes_ > 0) st = error(errc::not_found, "index files missing");
  if (st.ok()) {
    tracker = index_tracker{};
    if (!times.empty()) {
      tracker.max_timestamp = tracker.last_time_entry = times.back().timestamp;
      tracker.max_timestamp_relative = times.back().relative_offset;
    }
    tracker.bytes_since_entry = readable_bytes_ - (offsets.empty() ? 0 : offsets.back().position);
    return;
  }
  int64_t expected_next = next;
  rebuild_indexes(index_interval_bytes, !active);
  // The rebuild walks headers; the caller's next offset stays authoritative.
  if (next_offset != expected_next) next_offset = expected_next;
  if (!active) {
    (void)offsets.seal(*env_);
    (void)times.seal(*env_);
  }
}

}  // namespace kappa::storage
