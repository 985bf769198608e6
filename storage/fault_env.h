// storage::fault_env — wraps another env (normally a mem_env) and injects the
// failures a disk and a power cut produce. Tests and simulations use it to
// make crash tests ordinary unit tests (LevelDB's FaultInjectionTestEnv).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/env.h"

namespace kappa::storage {

enum class crash_mode {
  // Every byte not covered by a file sync() is lost.
  drop_unsynced,
  // A random prefix (0..all) of each file's unsynced tail survives, as after a
  // torn write; chosen from the seed.
  keep_random_unsynced_prefix,
};

class fault_env : public env {
 public:
  // `base` must outlive this env.
  explicit fault_env(env& base);
  ~fault_env() override;

  // Simulates a power cut: handles opened before it fail every call with EIO
  // from now on; each file's data is cut back to what was synced (see
  // crash_mode); creations, renames and removals not followed by a sync_dir
  // of their directory are undone. The env stays usable for reopening.
  void crash(crash_mode mode = crash_mode::drop_unsynced, uint64_t seed = 0);

  // The next pwrite (any file) fails with errnum (e.g. EIO, ENOSPC) and
  // writes nothing.
  void fail_next_write(int errnum);
  // The next sync() (any file) fails with errnum.
  void fail_next_sync(int errnum);
  // From now on, writes that would take the total bytes of all files past
  // limit write what fits and fail with ENOSPC. UINT64_MAX lifts the limit.
  void set_space_limit_bytes(uint64_t limit);
  // After `ops` more mutating calls (pwrite, sync, truncate, rename, remove,
  // sync_dir), every further mutating call fails with EIO: the process
  // "died" there. Tests then call crash() and reopen, crashing at every
  // write and sync point of a sequence in turn. UINT64_MAX disables it.
  void fail_all_after(uint64_t ops);
  // Flips one bit of a file's current content (synced or not).
  Status flip_bit(const std::string& path, uint64_t byte_offset, int bit);

  // Counters, for tests that crash at every write or sync point.
  uint64_t write_count() const;
  uint64_t sync_count() const;
  // Mutating calls made so far (what fail_all_after counts).
  uint64_t mutation_count() const;

  // env
  Result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override;
  bool exists(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status create_dirs(const std::string& path) override;
  Status remove_all(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool is_dir(const std::string& path) override;
  Result<std::unique_ptr<file_lock>> lock(const std::string& path) override;
  int64_t now_ms() override;
  // Tests set the clock; until the first call it follows the base env.
  void set_now_ms(int64_t now_ms);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace kappa::storage
