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
  //
  // The model in detail:
  // - Data: a file's synced size is set by sync() and lowered by a shrinking
  //   truncate (a shrink counts as durable at once). Unsynced overwrites of
  //   synced bytes are undone in both modes; only the unsynced tail is torn.
  //   Files never opened through this env count as fully synced.
  // - Namespace: a creation (open that made the file), rename or removal is
  //   durable once every directory it touches (both parents for a rename) has
  //   been sync_dir'ed after it; the rest are undone newest first. A removed
  //   or replaced file is kept under a hidden name in its directory until
  //   then. create_dirs, remove_all and removal of a directory are durable at
  //   once.
  // - Locks taken through this env are released, and fail_all_after is
  //   lifted (the process restarts); fail_next_*, the space limit and the
  //   clock are kept.
  // Mappings made before the crash stay valid and show the cut content.
  void crash(crash_mode mode = crash_mode::drop_unsynced, uint64_t seed = 0);

  // The next pwrite (any file) fails with errnum (e.g. EIO, ENOSPC) and
  // writes nothing.
  void fail_next_write(int errnum);
  // The next sync() (any file) fails with errnum.
  void fail_next_sync(int errnum);
  // From now on, writes that would take the total bytes of all files past
  // limit write what fits and fail with ENOSPC. UINT64_MAX lifts the limit.
  // "All files" are those opened through this env (current sizes).
  void set_space_limit_bytes(uint64_t limit);
  // After `ops` more mutating calls (pwrite, sync, truncate, rename, remove,
  // sync_dir), every further mutating call fails with EIO: the process
  // "died" there. Tests then call crash() and reopen, crashing at every
  // write and sync point of a sequence in turn. UINT64_MAX disables it.
  // Once dead, opening to create and create_dirs/remove_all fail with EIO too
  // (without being counted); reads keep working.
  void fail_all_after(uint64_t ops);
  // Flips one bit (0..7) of a file's current content (synced or not), in
  // place in the base env: existing mappings see it. Not a counted mutation.
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
