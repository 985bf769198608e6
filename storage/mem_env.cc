// mem_env: an in-memory filesystem for tests and simulation (see env.h).
//
// Each file's bytes live in one anonymous reservation of max_file_bytes that
// never moves, so a mapping is simply a pointer into it and sees every later
// write, exactly like MAP_SHARED. The reservation is shared by the namespace
// entry, open handles and mappings: removing or renaming a file leaves them
// working, as an unlinked inode does. Bytes at or past a file's size are kept
// zero, so growing a file (by truncate or by writing past the end) reads
// zeros in the gap without extra work.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "storage/env.h"
#include "storage/path_env_internal.h"

namespace kappa::storage {
namespace {

using internal::normalize_path;
using internal::parent_path;

Status err(int errnum, const std::string& op, const std::string& path) {
  return Status::from_errno(errnum, op + " " + path);
}

// The bytes of one file. size is guarded by mu; the reservation itself is
// fixed for the storage's lifetime.
class mem_storage {
 public:
  explicit mem_storage(uint64_t capacity) : capacity_(capacity) {
    void* p = ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    // Running out of address space in a test env is not a recoverable state.
    KAPPA_ASSERT(p != MAP_FAILED);
    data_ = static_cast<uint8_t*>(p);
  }
  ~mem_storage() { ::munmap(data_, capacity_); }
  mem_storage(const mem_storage&) = delete;
  mem_storage& operator=(const mem_storage&) = delete;

  uint64_t capacity() const { return capacity_; }
  const uint8_t* data() const { return data_; }

  Status pwrite(uint64_t offset, byte_view in, const std::string& path) {
    if (offset > capacity_ || in.size() > capacity_ - offset) return err(EFBIG, "pwrite", path);
    std::lock_guard<std::mutex> g(mu_);
    if (!in.empty()) std::memcpy(data_ + offset, in.data(), in.size());
    size_ = std::max(size_, offset + in.size());
    return Status::ok_status();
  }

  size_t pread(uint64_t offset, mutable_byte_view out) {
    std::lock_guard<std::mutex> g(mu_);
    if (offset >= size_) return 0;
    size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
    std::memcpy(out.data(), data_ + offset, n);
    return n;
  }

  Status truncate(uint64_t size, const std::string& path) {
    if (size > capacity_) return err(EFBIG, "truncate", path);
    std::lock_guard<std::mutex> g(mu_);
    if (size < size_) zero(size, size_);
    size_ = size;
    return Status::ok_status();
  }

  uint64_t size() {
    std::lock_guard<std::mutex> g(mu_);
    return size_;
  }

 private:
  // Zeroes [from, to), handing whole pages back to the kernel (a private
  // anonymous page reads as zero after MADV_DONTNEED).
  void zero(uint64_t from, uint64_t to) {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t first_page = (from + page - 1) / page * page;
    uint64_t last_page = to / page * page;
    if (first_page < last_page) {
      std::memset(data_ + from, 0, first_page - from);
      ::madvise(data_ + first_page, last_page - first_page, MADV_DONTNEED);
      std::memset(data_ + last_page, 0, to - last_page);
    } else {
      std::memset(data_ + from, 0, to - from);
    }
  }

  const uint64_t capacity_;
  uint8_t* data_ = nullptr;
  std::mutex mu_;
  uint64_t size_ = 0;
};

class mem_region final : public mapped_region {
 public:
  mem_region(std::shared_ptr<mem_storage> storage, size_t length) : storage_(std::move(storage)), length_(length) {}
  byte_view bytes() const override { return {storage_ ? storage_->data() : nullptr, length_}; }

 private:
  std::shared_ptr<mem_storage> storage_;
  size_t length_;
};

class mem_file final : public file {
 public:
  mem_file(std::shared_ptr<mem_storage> storage, std::string path, bool writable)
      : storage_(std::move(storage)), path_(std::move(path)), writable_(writable) {}

  Status pwrite(uint64_t offset, byte_view data) override {
    if (!writable_) return err(EBADF, "pwrite", path_);
    return storage_->pwrite(offset, data, path_);
  }
  Result<size_t> pread(uint64_t offset, mutable_byte_view out) override { return storage_->pread(offset, out); }
  Status sync() override { return Status::ok_status(); }
  Status truncate(uint64_t size) override {
    if (!writable_) return err(EINVAL, "truncate", path_);
    return storage_->truncate(size, path_);
  }
  Result<uint64_t> size() override { return storage_->size(); }
  Result<std::shared_ptr<const mapped_region>> map(uint64_t length) override {
    if (length == 0) return std::shared_ptr<const mapped_region>(std::make_shared<mem_region>(nullptr, 0));
    // The reservation is all the address space there is. No byte past it can
    // ever exist (writes there fail), so a longer request loses nothing
    // readable by being cut to it; callers that grow mappings by doubling
    // keep working near the limit.
    length = std::min(length, storage_->capacity());
    return std::shared_ptr<const mapped_region>(std::make_shared<mem_region>(storage_, static_cast<size_t>(length)));
  }

 private:
  std::shared_ptr<mem_storage> storage_;
  std::string path_;
  bool writable_;
};

// The namespace: normalized absolute path -> entry. A null storage marks a
// directory. Sorted, so a directory's descendants are one contiguous range.
struct mem_fs {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<mem_storage>> entries;
  std::set<std::string> locked;
};

class mem_lock final : public file_lock {
 public:
  mem_lock(std::shared_ptr<mem_fs> fs, std::string key) : fs_(std::move(fs)), key_(std::move(key)) {}
  ~mem_lock() override {
    std::lock_guard<std::mutex> g(fs_->mu);
    fs_->locked.erase(key_);
  }

 private:
  std::shared_ptr<mem_fs> fs_;
  std::string key_;
};

class mem_env final : public env {
 public:
  explicit mem_env(uint64_t max_file_bytes) : max_file_bytes_(max_file_bytes), fs_(std::make_shared<mem_fs>()) {
    fs_->entries.emplace("/", nullptr);
  }

  Result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override {
    const std::string k = key(path);
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(k);
    if (it != fs_->entries.end()) {
      if (!it->second) return err(EISDIR, "open", path);
      if (mode == open_mode::create_exclusive) return err(EEXIST, "open", path);
      return std::unique_ptr<file>(std::make_unique<mem_file>(it->second, path, mode != open_mode::read_only));
    }
    if (mode == open_mode::read_only) return err(ENOENT, "open", path);
    KAPPA_RETURN_IF_ERROR(check_parent(k, "open", path));
    auto storage = std::make_shared<mem_storage>(max_file_bytes_);
    fs_->entries.emplace(k, storage);
    return std::unique_ptr<file>(std::make_unique<mem_file>(storage, path, true));
  }

  bool exists(const std::string& path) override {
    std::lock_guard<std::mutex> g(fs_->mu);
    return fs_->entries.count(key(path)) > 0;
  }

  Result<uint64_t> file_size(const std::string& path) override {
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(key(path));
    if (it == fs_->entries.end()) return err(ENOENT, "stat", path);
    if (!it->second) return err(EISDIR, "stat", path);
    return it->second->size();
  }

  Status rename(const std::string& from, const std::string& to) override {
    const std::string f = key(from), t = key(to);
    const std::string what = from + " -> " + to;
    std::lock_guard<std::mutex> g(fs_->mu);
    auto src = fs_->entries.find(f);
    if (src == fs_->entries.end()) return err(ENOENT, "rename", what);
    KAPPA_RETURN_IF_ERROR(check_parent(t, "rename", what));
    if (f == t) return Status::ok_status();
    auto dst = fs_->entries.find(t);
    const bool src_is_dir = !src->second;
    if (dst != fs_->entries.end()) {
      if (src_is_dir && dst->second) return err(ENOTDIR, "rename", what);
      if (!src_is_dir && !dst->second) return err(EISDIR, "rename", what);
      if (!dst->second && has_children(t)) return err(ENOTEMPTY, "rename", what);
    }
    if (src_is_dir && internal::is_within(t, f)) return err(EINVAL, "rename", what);
    if (dst != fs_->entries.end()) fs_->entries.erase(dst);
    if (!src_is_dir) {
      auto storage = std::move(src->second);
      fs_->entries.erase(src);
      fs_->entries.emplace(t, std::move(storage));
      return Status::ok_status();
    }
    // A directory moves with everything below it.
    std::map<std::string, std::shared_ptr<mem_storage>> moved;
    const std::string prefix = f + "/";
    for (auto it = fs_->entries.lower_bound(prefix); it != fs_->entries.end() && it->first.starts_with(prefix);) {
      moved.emplace(t + it->first.substr(f.size()), std::move(it->second));
      it = fs_->entries.erase(it);
    }
    fs_->entries.erase(src);
    moved.emplace(t, nullptr);
    fs_->entries.merge(moved);
    return Status::ok_status();
  }

  Status remove(const std::string& path) override {
    const std::string k = key(path);
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(k);
    if (it == fs_->entries.end()) return err(ENOENT, "remove", path);
    if (k == "/") return err(EBUSY, "remove", path);
    if (!it->second && has_children(k)) return err(ENOTEMPTY, "remove", path);
    fs_->entries.erase(it);
    return Status::ok_status();
  }

  Status create_dirs(const std::string& path) override {
    const std::string k = key(path);
    std::lock_guard<std::mutex> g(fs_->mu);
    // Walk down from the root, creating each missing component.
    for (size_t pos = 1; pos <= k.size(); ++pos) {
      if (pos != k.size() && k[pos] != '/') continue;
      const std::string prefix = k.substr(0, pos);
      auto it = fs_->entries.find(prefix);
      if (it == fs_->entries.end()) {
        fs_->entries.emplace(prefix, nullptr);
      } else if (it->second) {
        return err(pos == k.size() ? EEXIST : ENOTDIR, "create_dirs", path);
      }
    }
    return Status::ok_status();
  }

  Status remove_all(const std::string& path) override {
    const std::string k = key(path);
    std::lock_guard<std::mutex> g(fs_->mu);
    const std::string prefix = dir_prefix(k);
    for (auto it = first_below(k); it != fs_->entries.end() && it->first.starts_with(prefix);) {
      it = fs_->entries.erase(it);
    }
    if (k != "/") fs_->entries.erase(k);
    return Status::ok_status();  // a missing path is fine, as for std::filesystem
  }

  Status sync_dir(const std::string& path) override {
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(key(path));
    if (it == fs_->entries.end()) return err(ENOENT, "sync_dir", path);
    if (it->second) return err(ENOTDIR, "sync_dir", path);
    return Status::ok_status();
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    const std::string k = key(dir);
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(k);
    if (it == fs_->entries.end()) return err(ENOENT, "list", dir);
    if (it->second) return err(ENOTDIR, "list", dir);
    std::vector<std::string> names;
    const std::string prefix = dir_prefix(k);
    for (it = first_below(k); it != fs_->entries.end() && it->first.starts_with(prefix); ++it) {
      if (parent_path(it->first) == k) names.push_back(internal::base_name(it->first));
    }
    return names;
  }

  bool is_dir(const std::string& path) override {
    std::lock_guard<std::mutex> g(fs_->mu);
    auto it = fs_->entries.find(key(path));
    return it != fs_->entries.end() && !it->second;
  }

  Result<std::unique_ptr<file_lock>> lock(const std::string& path) override {
    const std::string k = key(path);
    // Like posix_env, the lock file exists (holding the pid) while locked.
    {
      auto f = open(path, open_mode::read_write);
      if (!f.ok()) return f.status();
      std::lock_guard<std::mutex> g(fs_->mu);
      if (fs_->locked.count(k)) {
        return Status(std::make_error_code(std::errc::resource_unavailable_try_again),
                      path + " is locked by another kappa process (pid " + std::to_string(::getpid()) + ")");
      }
      fs_->locked.insert(k);
      std::string pid = std::to_string(::getpid()) + "\n";
      (void)(*f)->truncate(0);
      (void)(*f)->pwrite(0, as_bytes(pid));
    }
    return std::unique_ptr<file_lock>(std::make_unique<mem_lock>(fs_, k));
  }

  int64_t now_ms() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

 private:
  // Relative paths are taken from the root: mem_env has no working directory.
  static std::string key(const std::string& path) {
    return normalize_path(!path.empty() && path.front() == '/' ? path : "/" + path);
  }

  // REQUIRES: fs_->mu held.
  Status check_parent(const std::string& k, const std::string& op, const std::string& path) {
    auto parent = fs_->entries.find(parent_path(k));
    if (parent == fs_->entries.end()) return err(ENOENT, op, path);
    if (parent->second) return err(ENOTDIR, op, path);
    return Status::ok_status();
  }

  // REQUIRES: fs_->mu held; `dir` is a directory entry.
  bool has_children(const std::string& dir) {
    auto it = first_below(dir);
    return it != fs_->entries.end() && it->first.starts_with(dir_prefix(dir));
  }

  // REQUIRES: fs_->mu held. The first entry that may lie below `dir`.
  std::map<std::string, std::shared_ptr<mem_storage>>::iterator first_below(const std::string& dir) {
    auto it = fs_->entries.lower_bound(dir_prefix(dir));
    if (it != fs_->entries.end() && it->first == dir) ++it;  // only for the root
    return it;
  }

  // Every descendant of `dir` starts with this. (They are not simply the
  // entries after `dir`: "/a-b" sorts between "/a" and "/a/c".)
  static std::string dir_prefix(const std::string& dir) { return dir == "/" ? dir : dir + "/"; }

  const uint64_t max_file_bytes_;
  std::shared_ptr<mem_fs> fs_;
};

}  // namespace

std::unique_ptr<env> new_mem_env(uint64_t max_file_bytes) {
  KAPPA_ASSERT(max_file_bytes > 0);
  return std::make_unique<mem_env>(max_file_bytes);
}

}  // namespace kappa::storage
