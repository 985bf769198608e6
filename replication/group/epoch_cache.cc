#include "replication/group/epoch_cache.h"

#include <algorithm>

#include "proto/format/endian.h"
#include "proto/format/record_batch.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::replication {

namespace {
constexpr uint16_t kVersion = 1;
constexpr size_t kEntryBytes = 16;
}  // namespace

Result<raft::term_id> batch_epoch_at(const storage::log& log, int64_t offset) {
  KAPPA_ASSIGN_OR_RETURN(auto v, log.read(offset, 1));
  if (v.batches.size() < format::kBatchHeaderBytes) {
    return error(storage::errc::invalid_argument, "no batch at offset " + std::to_string(offset));
  }
  auto h = format::read_header(v.batches);
  return raft::term_id(static_cast<uint64_t>(std::max<int32_t>(h.partition_leader_epoch, 0)));
}

Result<std::unique_ptr<epoch_cache>> epoch_cache::open(storage::env& e, std::string path,
                                                       const storage::log& log) {
  std::unique_ptr<epoch_cache> c(new epoch_cache(e, std::move(path)));
  auto file = storage::read_metadata_file(e, c->path_);
  bool ok = file.ok() && file->version == kVersion && file->payload.size() >= 4;
  if (ok) {
    const uint8_t* p = file->payload.data();
    const uint32_t n = format::load_be<uint32_t>(p);
    ok = file->payload.size() == 4 + size_t{n} * kEntryBytes;
    for (uint32_t i = 0; ok && i < n; ++i) {
      epoch_entry en{raft::term_id(format::load_be<uint64_t>(p + 4 + i * kEntryBytes)),
                     format::load_be<int64_t>(p + 12 + i * kEntryBytes)};
      if (!c->entries_.empty() &&
          (en.epoch <= c->entries_.back().epoch || en.start < c->entries_.back().start)) {
        ok = false;
      }
      c->entries_.push_back(en);
    }
  }
  if (ok) {
    // Entries past the log end were written for batches a crash lost.
    const size_t before = c->entries_.size();
    std::erase_if(c->entries_,
                  [&](const epoch_entry& en) { return en.start >= log.log_end_offset(); });
    ok = c->consistent_with(log);
    if (ok && c->entries_.size() != before) KAPPA_RETURN_IF_ERROR(c->persist());
  }
  if (!ok) {
    c->entries_.clear();
    KAPPA_RETURN_IF_ERROR(c->rebuild(log));
    // A fresh log without a file yet is no repair.
    c->rebuilt_ = file.ok() || file.status().code() != storage::errc::not_found ||
                  log.log_start_offset() != log.log_end_offset();
  }
  return c;
}

bool epoch_cache::consistent_with(const storage::log& log) const {
  const int64_t start = log.log_start_offset(), end = log.log_end_offset();
  if (start == end) return true;
  for (int64_t off : {start, end - 1}) {
    auto t = batch_epoch_at(log, off);
    if (!t.ok() || *t != term_at(off)) return false;
  }
  return true;
}

Status epoch_cache::rebuild(const storage::log& log) {
  int64_t off = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  for (int guard = 0; off < end && guard < (1 << 24); ++guard) {
    KAPPA_ASSIGN_OR_RETURN(auto v, log.read(off, size_t{1} << 20));
    size_t pos = 0;
    while (pos + format::kBatchHeaderBytes <= v.batches.size()) {
      auto h = format::read_header(v.batches.subspan(pos));
      raft::term_id t(static_cast<uint64_t>(std::max<int32_t>(h.partition_leader_epoch, 0)));
      if (entries_.empty() || t > entries_.back().epoch) entries_.push_back({t, h.base_offset});
      pos += h.size_bytes();
    }
    if (v.next_offset <= off) break;
    off = v.next_offset;
  }
  return persist();
}

raft::term_id epoch_cache::term_at(int64_t offset) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), offset,
                             [](int64_t o, const epoch_entry& en) { return o < en.start; });
  if (it == entries_.begin()) {
    // Below the first entry: a fresh log (term 0), or a rebuilt list that
    // cannot know what preceded the log start (assume the first epoch).
    return entries_.empty() || offset < 0 ? raft::term_id(0) : entries_.front().epoch;
  }
  return std::prev(it)->epoch;
}

Status epoch_cache::on_append(raft::term_id epoch, int64_t base_offset) {
  if (!entries_.empty() && epoch <= entries_.back().epoch) {
    KAPPA_ASSERT(epoch == entries_.back().epoch);  // Raft: terms never go back along a log
    return Status();
  }
  entries_.push_back({epoch, base_offset});
  return persist();
}

Status epoch_cache::truncate_from(int64_t offset) {
  const size_t before = entries_.size();
  std::erase_if(entries_, [&](const epoch_entry& en) { return en.start >= offset; });
  return entries_.size() == before ? Status() : persist();
}

Status epoch_cache::reset(int64_t start, raft::term_id prev_epoch) {
  entries_.clear();
  if (prev_epoch > raft::term_id(0)) entries_.push_back({prev_epoch, start - 1});
  return persist();
}

Status epoch_cache::persist() {
  byte_buffer buf(4 + entries_.size() * kEntryBytes);
  format::store_be<uint32_t>(buf.data(), static_cast<uint32_t>(entries_.size()));
  for (size_t i = 0; i < entries_.size(); ++i) {
    format::store_be<uint64_t>(buf.data() + 4 + i * kEntryBytes, entries_[i].epoch.value);
    format::store_be<int64_t>(buf.data() + 12 + i * kEntryBytes, entries_[i].start);
  }
  return storage::write_metadata_file(*env_, path_, kVersion, buf);
}

}  // namespace kappa::replication
