// index_file<Codec> — the storage shared by the offset and time indexes: a
// file of fixed-size big-endian entries, sorted, sparse.
//
// Two modes:
// - sealed: the file is memory-mapped read-only (env file::map) and entries
//   are decoded from the mapping on lookup; nothing is held in memory.
// - active: entries are kept in a vector and each new one is pwritten to the
//   file as it is made (write_entry), so the file trails memory by at most the
//   entry being written.
//
// The index is advisory: every lookup is verified against the log by its
// user, and a damaged file is rebuilt from the segment. So failures to write
// an index file never fail an append.
//
// Thread safety: none of its own. The log mutates an index (push, seal,
// replace) under its exclusive state lock and reads it under the shared one;
// write_entry is called by the single appender without that lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::storage {

template <typename Codec>
class index_file {
 public:
  using entry = typename Codec::entry;
  static constexpr size_t kEntryBytes = Codec::kEntryBytes;
  // A sparse index over a segment of at most 4 GiB: a limit on what is loaded.
  static constexpr uint64_t kFileBytesMax = uint64_t{256} << 20;

  explicit index_file(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  size_t size() const { return active_ ? mem_.size() : map_bytes_ / kEntryBytes; }
  bool empty() const { return size() == 0; }
  bool is_active() const { return active_; }
  // REQUIRES: i < size().
  entry at(size_t i) const {
    KAPPA_ASSERT(i < size());
    return active_ ? mem_[i] : Codec::decode(map_->bytes().data() + i * kEntryBytes);
  }
  entry back() const { return at(size() - 1); }

  // Loads the file read-only by mapping it (sealed mode). A missing file
  // loads as empty. Errors: the file cannot be read, or its size is not a
  // whole number of entries (the caller rebuilds).
  Status load_sealed(env& e);
  // Loads the file into memory and keeps it open for appends (active mode).
  Status load_active(env& e);
  // Replaces every entry (rebuild, truncation): rewrites the file and
  // switches to active mode. File errors are returned but memory is updated
  // regardless; the file is then rebuilt at the next open.
  Status replace(env& e, std::vector<entry> entries);

  // Active mode: adds an entry in memory. REQUIRES: is_active().
  void push(const entry& en) { KAPPA_ASSERT(active_); mem_.push_back(en); }
  // Active mode: writes entry `i` to the file. REQUIRES: is_active().
  Status write_entry(size_t i, const entry& en);
  // Syncs the file (at roll and close; errors only cost a rebuild later).
  Status sync();
  // Switches an active index to sealed mode: maps the file. On failure stays
  // active (memory is authoritative).
  Status seal(env& e);

 private:
  std::string path_;
  bool active_ = false;
  std::vector<entry> mem_;
  std::unique_ptr<file> file_;  // open in active mode
  std::shared_ptr<const mapped_region> map_;
  uint64_t map_bytes_ = 0;
};

}  // namespace kappa::storage

#include "storage/index_file_inl.h"
