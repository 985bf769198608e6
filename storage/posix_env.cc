// posix_env: the env over the real filesystem (see env.h for the contract).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "storage/env.h"

namespace kappa::storage {
namespace {

Status errno_status(const char* op, const std::string& path) {
  return Status::from_errno(errno, std::string(op) + " " + path);
}

// Owns an mmap; does not hold the file descriptor, since a mapping outlives
// the descriptor it was made from.
class posix_region final : public mapped_region {
 public:
  posix_region(void* addr, size_t length) : addr_(addr), length_(length) {}
  ~posix_region() override {
    if (length_ > 0) ::munmap(addr_, length_);
  }
  posix_region(const posix_region&) = delete;
  posix_region& operator=(const posix_region&) = delete;

  byte_view bytes() const override { return {static_cast<const uint8_t*>(addr_), length_}; }

 private:
  void* addr_;
  size_t length_;
};

class posix_file final : public file {
 public:
  posix_file(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~posix_file() override { ::close(fd_); }
  posix_file(const posix_file&) = delete;
  posix_file& operator=(const posix_file&) = delete;

  Status pwrite(uint64_t offset, byte_view data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("pwrite", path_);
      }
      // A zero-byte write of a non-empty buffer would loop forever; treat
      // it as the disk being full, which is the only way it happens.
      if (n == 0) return Status::from_errno(ENOSPC, "pwrite " + path_);
      p += n;
      left -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::ok_status();
  }

  Result<size_t> pread(uint64_t offset, mutable_byte_view out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status("pread", path_);
      }
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status sync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return errno_status("fdatasync", path_);
    }
    return Status::ok_status();
  }

  Status truncate(uint64_t size) override {
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return errno_status("ftruncate", path_);
    }
    return Status::ok_status();
  }

  Result<uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return errno_status("fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::shared_ptr<const mapped_region>> map(uint64_t length) override {
    if (length == 0) return std::shared_ptr<const mapped_region>(std::make_shared<posix_region>(nullptr, 0));
    if (length > SIZE_MAX) return Status::from_errno(EOVERFLOW, "mmap " + path_);
    void* addr = ::mmap(nullptr, static_cast<size_t>(length), PROT_READ, MAP_SHARED, fd_, 0);
    if (addr == MAP_FAILED) return errno_status("mmap", path_);
    return std::shared_ptr<const mapped_region>(std::make_shared<posix_region>(addr, static_cast<size_t>(length)));
  }

 private:
  int fd_;
  std::string path_;
};

class posix_lock final : public file_lock {
 public:
  explicit posix_lock(int fd) : fd_(fd) {}
  // Closing the descriptor releases the flock. The file itself stays: removing
  // it would let a waiter lock a fresh inode while another holds the old one.
  ~posix_lock() override { ::close(fd_); }
  posix_lock(const posix_lock&) = delete;
  posix_lock& operator=(const posix_lock&) = delete;

 private:
  int fd_;
};

class posix_env_impl final : public env {
 public:
  Result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case open_mode::read_only: flags |= O_RDONLY; break;
      case open_mode::read_write: flags |= O_RDWR | O_CREAT; break;
      case open_mode::create_exclusive: flags |= O_RDWR | O_CREAT | O_EXCL; break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno_status("open", path);
    return std::unique_ptr<file>(std::make_unique<posix_file>(fd, path));
  }

  bool exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<uint64_t> file_size(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return errno_status("stat", path);
    return static_cast<uint64_t>(st.st_size);
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_status("rename", from + " -> " + to);
    return Status::ok_status();
  }

  Status remove(const std::string& path) override {
    // ::remove also takes an empty directory, as std::filesystem::remove does.
    if (::remove(path.c_str()) != 0) return errno_status("remove", path);
    return Status::ok_status();
  }

  Status create_dirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Status(ec, "create_dirs " + path + ": " + ec.message());
    return Status::ok_status();
  }

  Status remove_all(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return Status(ec, "remove_all " + path + ": " + ec.message());
    return Status::ok_status();
  }

  Status sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status("open dir", path);
    Status st;
    while (::fsync(fd) != 0) {
      if (errno != EINTR) {
        st = errno_status("fsync dir", path);
        break;
      }
    }
    ::close(fd);
    return st;
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_status("opendir", dir);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Status::from_errno(err, "readdir " + dir);
    return names;
  }

  bool is_dir(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  Result<std::unique_ptr<file_lock>> lock(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_status("open lock file", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err == EWOULDBLOCK) {
        std::string holder = read_holder(fd);
        ::close(fd);
        return Status(std::error_code(err, std::generic_category()),
                      path + " is locked by another kappa process (pid " + holder + ")");
      }
      ::close(fd);
      return Status::from_errno(err, "flock " + path);
    }
    // Record the holder so the next taker's error can name it.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      Status st = errno_status("write pid to lock file", path);
      ::close(fd);
      return st;
    }
    return std::unique_ptr<file_lock>(std::make_unique<posix_lock>(fd));
  }

  int64_t now_ms() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

 private:
  static std::string read_holder(int fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s.empty() ? "unknown" : s;
  }
};

}  // namespace

env& posix_env() {
  // Never destroyed: other statics may use the env during shutdown.
  static posix_env_impl* instance = new posix_env_impl();
  return *instance;
}

}  // namespace kappa::storage
