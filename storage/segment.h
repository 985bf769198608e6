// storage::segment — one `<base offset, 20 digits>.log` file of whole record
// batches, with its `.index` and `.timeindex`.
//
// Writes go through file::pwrite at the end; reads through a read-only
// mapping. The active segment maps a reservation longer than its data
// (segment_bytes + max_batch_bytes + slack) so appends need no remapping;
// should a write pass the mapped length, a new larger mapping replaces the
// old one (views holding the old one keep it alive). A sealed segment maps
// exactly its size.
//
// readable_bytes is published only after the pwrite that filled it completed,
// so readers never touch bytes that are not fully written.
//
// Thread safety: the owning log guards the fields below with its locks:
// mutations under its exclusive state lock (or, for the file writes, by its
// single appender), reads under its shared state lock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "proto/format/record_batch.h"
#include "proto/format/result.h"
#include "storage/env.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace kappa::storage {

// Decides when index entries are made (see offset_index.h, time_index.h);
// shared by appends and index rebuilds so both index the same way.
struct index_tracker {
  uint64_t bytes_since_entry = 0;
  int64_t max_timestamp = -1;
  uint32_t max_timestamp_relative = 0;
  int64_t last_time_entry = -1;  // timestamp of the time index's last entry

  struct step {
    std::optional<offset_entry> offset;
    std::optional<time_entry> time;
  };
  step on_batch(int64_t segment_base, uint64_t position, const format::batch_header& h,
                uint64_t index_interval_bytes);
  // The entry that records the segment's max timestamp when sealing, if the
  // time index does not have it yet.
  std::optional<time_entry> final_time_entry() const;
};

class segment {
 public:
  static std::string file_name(int64_t base_offset, const char* extension);
  // The base offset of a `<20 digits>.log` name, or nullopt.
  static std::optional<int64_t> parse_log_name(const std::string& name);

  // Creates the (empty) files of a new active segment, replacing any stale
  // ones, and maps `reserve_bytes`. The caller syncs the directory.
  static Result<std::unique_ptr<segment>> create(env& e, const std::string& dir, int64_t base_offset,
                                                 uint64_t reserve_bytes);
  // Opens an existing segment file and maps exactly its size. Indexes are not
  // loaded; next_offset and max_timestamp are not known yet.
  static Result<std::unique_ptr<segment>> open(env& e, const std::string& dir, int64_t base_offset);

  int64_t base_offset() const { return base_offset_; }
  const std::string& log_path() const { return log_path_; }
  env& environment() const { return *env_; }

  // Bytes a reader may touch. Published after the write that filled them.
  uint64_t readable_bytes() const { return readable_bytes_; }
  void publish(uint64_t readable_bytes) { readable_bytes_ = readable_bytes; }
  // The readable bytes of the current mapping.
  byte_view bytes() const { return map_->bytes().first(readable_bytes_); }
  const std::shared_ptr<const mapped_region>& mapping() const { return map_; }
  // References to the mapping other than the segment's own: outstanding read views.
  long outside_mapping_refs() const { return map_.use_count() - 1; }

  Status pwrite(uint64_t position, byte_view data) { return file_->pwrite(position, data); }
  Status sync() { return file_->sync(); }
  Status truncate_file(uint64_t size) { return file_->truncate(size); }
  Result<uint64_t> file_size() { return file_->size(); }
  // Makes sure the mapping covers `length` bytes, remapping larger (at least
  // doubling) if not. REQUIRES: exclusive state lock.
  Status ensure_mapped(uint64_t length);
  // Remaps to exactly `length` bytes (sealing) or to a reservation (reopening
  // for appends). REQUIRES: exclusive state lock.
  Status remap(uint64_t length);
  // Replaces the log file by a copy of its first `length` bytes, written to a
  // temporary file and renamed over it, so mappings of the old file (read
  // views) stay valid. Then maps `map_length`.
  Status rewrite_prefix(uint64_t length, uint64_t map_length);
  // Removes the segment's files (index files first, so a crash in between
  // leaves a log file whose index is rebuilt rather than an orphan index).
  Status remove_files();

  // Rebuilds both indexes from the readable bytes with a header walk and
  // sets next_offset, last_batch_position and max_timestamp. Stops at the first header that does
  // not fit. `sealed` adds the final time entry. Index file errors are
  // ignored (the index is advisory). Leaves both indexes in active mode.
  void rebuild_indexes(uint64_t index_interval_bytes, bool sealed);
  // Loads the index files, sealed (mapped) or active (in memory), and checks
  // them against the log; a missing or damaged index is rebuilt. Sets
  // next_offset (from `next_offset`, the next segment's base or the log end)
  // and max_timestamp.
  void load_indexes(bool active, int64_t next_offset, uint64_t index_interval_bytes);

  offset_index offsets;
  time_index times;
  index_tracker tracker;
  int64_t next_offset = 0;        // offset after the last batch (base when empty)
  int64_t first_append_ms = -1;   // env time of the first append (segment.ms); -1 when empty
  uint64_t last_batch_position = UINT64_MAX;  // UINT64_MAX: no batch
  bool has_unsynced = false;      // written since the last sync (guarded by the log's flush bookkeeping)

  int64_t max_timestamp() const { return tracker.max_timestamp; }

 private:
  segment(env& e, std::string dir, int64_t base_offset);
  Status open_files(open_mode mode);

  env* env_;
  std::string dir_;
  int64_t base_offset_;
  std::string log_path_;
  std::unique_ptr<file> file_;
  std::shared_ptr<const mapped_region> map_;
  uint64_t readable_bytes_ = 0;
};

// Walks batch headers in `bytes` without checking CRCs (the read path and
// index rebuilds): calls visit(position, header) for each batch that fits,
// stops at the first that does not or when visit returns false. Returns the
// position after the last batch visited. A template so the read path pays
// for no std::function.
template <typename Visit>
uint64_t walk_headers(byte_view bytes, uint64_t from, Visit&& visit) {
  constexpr auto kMinLength = static_cast<int32_t>(format::kBatchHeaderBytes - format::kBatchLogOverheadBytes);
  uint64_t pos = from;
  while (pos + format::kBatchHeaderBytes <= bytes.size()) {
    const format::batch_header h = format::read_header(bytes.subspan(pos));
    if (h.batch_length < kMinLength || pos + h.size_bytes() > bytes.size()) break;
    if (!visit(pos, h)) break;
    pos += h.size_bytes();
  }
  return pos;
}

}  // namespace kappa::storage
