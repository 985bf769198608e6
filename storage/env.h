// storage::env — the seam between Kappa and the filesystem (LevelDB's Env).
//
// All file access of storage/ goes through an env: posix_env for real disks,
// mem_env for tests and simulation, and fault_env (fault_env.h), which wraps
// another env to lose unsynced data at a simulated crash, fail the next write
// or sync, run out of space, or flip bits.
//
// Rules every implementation keeps and every caller may rely on:
// - Writes happen only through file::pwrite. Mappings are read-only views.
// - A mapping is MAP_SHARED-like: bytes pwritten after the map was made are
//   visible through it. A mapping may be longer than the file (reserving room
//   to grow); reading mapped bytes at or beyond the file's current size is
//   undefined (SIGBUS on POSIX), so callers read only bytes they know exist.
// - A mapped_region stays valid while any shared_ptr to it is held, even
//   after its file is closed, renamed or removed.
// - Shrinking a file (truncate) that a live mapping covers makes those bytes
//   undefined through the mapping; callers must not do it under readers.
// - sync() makes the file's data durable; sync_dir() makes creations,
//   renames and removals in that directory durable.
// - Errors are Status values; OS failures carry the errno
//   (std::generic_category), e.g. code() == std::errc::no_space_on_device.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/bytes.h"
#include "proto/format/result.h"

namespace kappa::storage {

// A read-only view of a file's first bytes(). Unmapped on destruction.
class mapped_region {
 public:
  virtual ~mapped_region() = default;
  virtual byte_view bytes() const = 0;
};

// An open file. pread and pwrite on one file may run concurrently on
// disjoint ranges; other concurrent use must be serialised by the caller.
class file {
 public:
  virtual ~file() = default;
  // Writes all of `data` at `offset`, or fails. On failure a prefix of
  // `data` may have been written (as with a real disk running out of space).
  virtual Status pwrite(uint64_t offset, byte_view data) = 0;
  // Reads up to out.size() bytes at `offset`; fewer only at end of file.
  virtual Result<size_t> pread(uint64_t offset, mutable_byte_view out) = 0;
  // Makes everything written so far durable (fdatasync).
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
  // Maps the first `length` bytes read-only. length may exceed size() (see
  // the rules above). A zero length yields an empty region.
  virtual Result<std::shared_ptr<const mapped_region>> map(uint64_t length) = 0;
};

// An exclusive lock on a path, released on destruction.
class file_lock {
 public:
  virtual ~file_lock() = default;
};

enum class open_mode {
  read_only,       // fails with ENOENT if missing
  read_write,      // creates the file if missing
  create_exclusive // fails with EEXIST if present
};

class env {
 public:
  virtual ~env() = default;

  virtual Result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual Result<uint64_t> file_size(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (POSIX rename semantics).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Creates the directory and missing parents; ok if it exists.
  virtual Status create_dirs(const std::string& path) = 0;
  // Removes a directory and everything below it.
  virtual Status remove_all(const std::string& path) = 0;
  virtual Status sync_dir(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, in no particular order.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  virtual bool is_dir(const std::string& path) = 0;
  // Takes an exclusive, non-blocking lock held until the returned object is
  // destroyed. A second taker (in this or another process) fails with a
  // message that says the path is in use and, where known, by which pid.
  virtual Result<std::unique_ptr<file_lock>> lock(const std::string& path) = 0;
  // Wall-clock milliseconds since the Unix epoch (simulations control it).
  virtual int64_t now_ms() = 0;
};

// The process-wide POSIX env. Never null; lives for the whole process.
env& posix_env();

// A fresh in-memory filesystem. Every file reserves max_file_bytes of
// address space (not memory) so mappings never move. Writes or truncates past
// max_file_bytes fail with EFBIG; a map() longer than it is cut to it. Paths
// are lexical ("/a//b/" is "/a/b"; relative paths start at the root) and
// directories must be created before files in them. lock() excludes other
// takers within the process.
std::unique_ptr<env> new_mem_env(uint64_t max_file_bytes = uint64_t{4} << 30);

}  // namespace kappa::storage
