// Template definitions of index_file (index_file.h). Not for direct inclusion.
#pragma once

#include "storage/errc.h"
#include "storage/index_file.h"

namespace kappa::storage {

template <typename Codec>
Status index_file<Codec>::load_sealed(env& e) {
  active_ = false;
  mem_.clear();
  file_.reset();
  map_.reset();
  map_bytes_ = 0;
  if (!e.exists(path_)) return Status();
  KAPPA_ASSIGN_OR_RETURN(auto f, e.open(path_, open_mode::read_only));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
  if (size % kEntryBytes != 0 || size > kFileBytesMax) {
    return error(errc::corruption, path_ + ": size " + std::to_string(size) +
                                       " is not a whole number of " + std::to_string(kEntryBytes) +
                                       "-byte entries");
  }
  KAPPA_ASSIGN_OR_RETURN(map_, f->map(size));
  map_bytes_ = size;
  return Status();
}

template <typename Codec>
Status index_file<Codec>::load_active(env& e) {
  KAPPA_RETURN_IF_ERROR(load_sealed(e));
  std::vector<entry> entries;
  entries.reserve(size());
  for (size_t i = 0; i < size(); ++i) entries.push_back(at(i));
  map_.reset();
  map_bytes_ = 0;
  mem_ = std::move(entries);
  active_ = true;
  KAPPA_ASSIGN_OR_RETURN(file_, e.open(path_, open_mode::read_write));
  return Status();
}

template <typename Codec>
Status index_file<Codec>::replace(env& e, std::vector<entry> entries) {
  mem_ = std::move(entries);
  active_ = true;
  map_.reset();
  map_bytes_ = 0;
  file_.reset();
  KAPPA_ASSIGN_OR_RETURN(file_, e.open(path_, open_mode::read_write));
  std::vector<uint8_t> buf(mem_.size() * kEntryBytes);
  for (size_t i = 0; i < mem_.size(); ++i) Codec::encode(mem_[i], buf.data() + i * kEntryBytes);
  KAPPA_RETURN_IF_ERROR(file_->truncate(0));
  if (!buf.empty()) KAPPA_RETURN_IF_ERROR(file_->pwrite(0, buf));
  return Status();
}

template <typename Codec>
Status index_file<Codec>::write_entry(size_t i, const entry& en) {
  KAPPA_ASSERT(active_);
  if (!file_) return error(errc::log_failed, path_ + ": index file not open");
  uint8_t buf[kEntryBytes];
  Codec::encode(en, buf);
  return file_->pwrite(i * kEntryBytes, byte_view(buf, kEntryBytes));
}

template <typename Codec>
Status index_file<Codec>::sync() {
  if (!file_) return Status();
  return file_->sync();
}

template <typename Codec>
Status index_file<Codec>::seal(env& e) {
  if (!active_) return Status();
  if (!file_) return error(errc::log_failed, path_ + ": index file not open");
  const uint64_t bytes = mem_.size() * kEntryBytes;
  // Make the file agree with memory before trusting the mapping: an entry
  // write may have failed (wholly or partly) earlier. Two attempts: as is,
  // then rewritten.
  for (int attempt = 0; attempt < 2; ++attempt) {
    KAPPA_ASSIGN_OR_RETURN(uint64_t size, file_->size());
    if (attempt == 1 || size != bytes) {
      std::vector<entry> copy = mem_;
      KAPPA_RETURN_IF_ERROR(replace(e, std::move(copy)));
    }
    KAPPA_ASSIGN_OR_RETURN(auto m, file_->map(bytes));
    bool same = true;
    for (size_t i = 0; same && i < mem_.size(); ++i) {
      same = Codec::decode(m->bytes().data() + i * kEntryBytes) == mem_[i];
    }
    if (!same) continue;
    map_ = std::move(m);
    map_bytes_ = bytes;
    mem_.clear();
    mem_.shrink_to_fit();
    file_.reset();
    active_ = false;
    return Status();
  }
  return error(errc::corruption, path_ + ": index file disagrees with memory after rewrite");
}

}  // namespace kappa::storage
