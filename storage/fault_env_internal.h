// fault_env's private state, shared by fault_env.cc (the env, crash) and
// fault_file_env.cc (file handles, locks). One mutex guards all of it: a test
// env favours obviously-correct bookkeeping over parallel I/O.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "storage/env.h"

namespace kappa::storage::internal {

// What the simulated disk holds durably for one file. Shared by the namespace
// entry and every handle, so it follows the file through renames.
struct tracked_file {
  uint64_t size = 0;         // current size, as written through this env
  uint64_t synced_size = 0;  // durable prefix; invariant: synced_size <= size
  // Old bytes of durable ranges overwritten since the last sync, oldest
  // first. A crash puts them back: an unsynced overwrite is not durable.
  struct overwrite {
    uint64_t offset;
    byte_buffer old_bytes;
  };
  std::vector<overwrite> undo;
};

// A creation, rename or removal that a crash undoes unless every directory in
// pending_dirs has been synced since.
struct namespace_op {
  enum class kind { create, rename, remove };
  kind what;
  std::string path;  // create, remove: the file; rename: the source
  std::string to;    // rename: the target
  bool is_dir = false;
  // remove, or rename over a file: where the displaced file is kept (hidden)
  // until the op is durable, and its tracking (null if it was never opened).
  std::string backup;
  std::shared_ptr<tracked_file> displaced;
  std::set<std::string> pending_dirs;
};

// Names of displaced files; list() and exists() never show them.
inline constexpr const char* backup_prefix = ".kappa-fault-backup-";

struct fault_state {
  explicit fault_state(env& b) : base(b) {}

  // REQUIRES: mu held. Counts one mutating call; EIO once past the death point.
  Status begin_mutation(const std::string& what) {
    uint64_t index = mutations++;
    if (index >= death_at) return Status::from_errno(EIO, what + " (fault_env: process died)");
    return Status::ok_status();
  }
  // REQUIRES: mu held. True once fail_all_after's budget is spent.
  bool dead() const { return mutations >= death_at; }
  // REQUIRES: mu held.
  uint64_t total_bytes() const {
    uint64_t total = 0;
    for (const auto& [path, f] : files) total += f->size;
    return total;
  }

  env& base;
  std::mutex mu;
  uint64_t generation = 0;  // bumped by crash(); older handles fail with EIO
  // Files opened through this env, by normalized path. Files never opened
  // here are untracked and treated as fully durable.
  std::map<std::string, std::shared_ptr<tracked_file>> files;
  std::vector<namespace_op> journal;  // not yet durable, oldest first
  uint64_t backup_seq = 0;
  int fail_next_write_errno = 0;
  int fail_next_sync_errno = 0;
  uint64_t space_limit_bytes = UINT64_MAX;
  uint64_t mutations = 0;
  uint64_t writes = 0;
  uint64_t syncs = 0;
  uint64_t death_at = UINT64_MAX;
  std::optional<int64_t> now_ms;
  // Base locks held by the current "process"; crash() releases them.
  std::map<uint64_t, std::unique_ptr<file_lock>> locks;
  uint64_t next_lock_id = 0;
};

// A handle on `base_file` (opened at `path`) that fails with EIO once the
// state's generation moves past `generation`.
std::unique_ptr<file> new_fault_file(std::shared_ptr<fault_state> state, std::unique_ptr<file> base_file,
                                     std::shared_ptr<tracked_file> tracked, std::string path);
// Wraps a base lock so that crash() can release it. REQUIRES: state->mu held.
std::unique_ptr<file_lock> new_fault_lock(std::shared_ptr<fault_state> state, std::unique_ptr<file_lock> base_lock);

}  // namespace kappa::storage::internal
