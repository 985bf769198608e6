// fault_env: the env-level operations and the crash model (see fault_env.h).
//
// Data: each file opened here has a tracked_file recording its synced size
// and the old bytes of synced ranges overwritten since; a crash cuts the file
// back and restores those bytes. Namespace: creations, renames and removals
// go into a journal until sync_dir of every directory they touch; a crash
// undoes the journal newest first. To make a removal (or a rename over a
// file) undoable, the displaced file is only renamed to a hidden backup name
// in its own directory, and really deleted once the operation is durable.
#include <cerrno>
#include <random>

#include "storage/fault_env.h"
#include "storage/fault_env_internal.h"
#include "storage/path_env_internal.h"

namespace kappa::storage {

using internal::namespace_op;
using internal::normalize_path;
using internal::parent_path;
using internal::tracked_file;

struct fault_env::state : internal::fault_state {
  using fault_state::fault_state;
};

namespace {

bool is_backup(const std::string& norm) { return internal::base_name(norm).starts_with(internal::backup_prefix); }

// Moves every tracked entry at or below `from` to the same place below `to`.
void rekey(std::map<std::string, std::shared_ptr<tracked_file>>& files, const std::string& from,
           const std::string& to) {
  std::map<std::string, std::shared_ptr<tracked_file>> moved;
  for (auto it = files.begin(); it != files.end();) {
    if (internal::is_within(it->first, from)) {
      moved.emplace(to + it->first.substr(from.size()), std::move(it->second));
      it = files.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [path, f] : moved) files[path] = std::move(f);
}

}  // namespace

fault_env::fault_env(env& base) : state_(std::make_shared<state>(base)) {}
fault_env::~fault_env() = default;

Result<std::unique_ptr<file>> fault_env::open(const std::string& path, open_mode mode) {
  const std::string n = normalize_path(path);
  std::lock_guard<std::mutex> g(state_->mu);
  if (is_backup(n)) return Status::from_errno(ENOENT, "open " + path);
  // A dead process creates nothing; reading is still allowed.
  if (mode != open_mode::read_only && state_->dead()) {
    return Status::from_errno(EIO, "open " + path + " (fault_env: process died)");
  }
  env& base = state_->base;
  const bool existed = base.exists(path);
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<file> f, base.open(path, mode));
  std::shared_ptr<tracked_file>& t = state_->files[n];
  if (!existed) {
    t = std::make_shared<tracked_file>();
    namespace_op op{.what = namespace_op::kind::create, .path = n};
    op.pending_dirs.insert(parent_path(n));
    state_->journal.push_back(std::move(op));
  } else if (!t) {
    // First sight of a file that predates this env: all of it is durable.
    KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
    t = std::make_shared<tracked_file>(tracked_file{.size = size, .synced_size = size});
  }
  return internal::new_fault_file(state_, std::move(f), t, path);
}

bool fault_env::exists(const std::string& path) {
  return !is_backup(normalize_path(path)) && state_->base.exists(path);
}

Result<uint64_t> fault_env::file_size(const std::string& path) {
  if (is_backup(normalize_path(path))) return Status::from_errno(ENOENT, "stat " + path);
  return state_->base.file_size(path);
}

Status fault_env::rename(const std::string& from, const std::string& to) {
  const std::string f = normalize_path(from), t = normalize_path(to);
  std::lock_guard<std::mutex> g(state_->mu);
  KAPPA_RETURN_IF_ERROR(state_->begin_mutation("rename " + from + " -> " + to));
  env& base = state_->base;
  if (f == t || !base.exists(from)) return base.rename(from, to);  // the base's result or error
  namespace_op op{.what = namespace_op::kind::rename, .path = f, .to = t, .is_dir = base.is_dir(from)};
  op.pending_dirs = {parent_path(f), parent_path(t)};
  if (!op.is_dir && base.exists(to) && !base.is_dir(to)) {
    op.backup = internal::join_path(parent_path(t), internal::backup_prefix + std::to_string(state_->backup_seq++));
    KAPPA_RETURN_IF_ERROR(base.rename(to, op.backup));
    if (auto it = state_->files.find(t); it != state_->files.end()) {
      op.displaced = std::move(it->second);
      state_->files.erase(it);
    }
  }
  if (Status st = base.rename(from, to); !st.ok()) {
    if (!op.backup.empty()) {
      (void)base.rename(op.backup, to);
      if (op.displaced) state_->files[t] = std::move(op.displaced);
    }
    return st;
  }
  rekey(state_->files, f, t);
  state_->journal.push_back(std::move(op));
  return Status::ok_status();
}

Status fault_env::remove(const std::string& path) {
  const std::string n = normalize_path(path);
  std::lock_guard<std::mutex> g(state_->mu);
  KAPPA_RETURN_IF_ERROR(state_->begin_mutation("remove " + path));
  env& base = state_->base;
  // Directories are removed for good; missing files get the base's error.
  if (is_backup(n) || !base.exists(path) || base.is_dir(path)) return base.remove(path);
  namespace_op op{.what = namespace_op::kind::remove, .path = n};
  op.pending_dirs.insert(parent_path(n));
  op.backup = internal::join_path(parent_path(n), internal::backup_prefix + std::to_string(state_->backup_seq++));
  KAPPA_RETURN_IF_ERROR(base.rename(path, op.backup));
  if (auto it = state_->files.find(n); it != state_->files.end()) {
    op.displaced = std::move(it->second);
    state_->files.erase(it);
  }
  state_->journal.push_back(std::move(op));
  return Status::ok_status();
}

Status fault_env::create_dirs(const std::string& path) {
  std::lock_guard<std::mutex> g(state_->mu);
  if (state_->dead()) return Status::from_errno(EIO, "create_dirs " + path + " (fault_env: process died)");
  return state_->base.create_dirs(path);  // durable at once: not part of the crash model
}

Status fault_env::remove_all(const std::string& path) {
  const std::string n = normalize_path(path);
  std::lock_guard<std::mutex> g(state_->mu);
  if (state_->dead()) return Status::from_errno(EIO, "remove_all " + path + " (fault_env: process died)");
  // Durable at once (backups below go with it); journal entries that refer
  // to paths below are skipped at a crash since their files are gone.
  KAPPA_RETURN_IF_ERROR(state_->base.remove_all(path));
  std::erase_if(state_->files, [&n](const auto& entry) { return internal::is_within(entry.first, n); });
  return Status::ok_status();
}

Status fault_env::sync_dir(const std::string& path) {
  const std::string n = normalize_path(path);
  std::lock_guard<std::mutex> g(state_->mu);
  KAPPA_RETURN_IF_ERROR(state_->begin_mutation("sync_dir " + path));
  KAPPA_RETURN_IF_ERROR(state_->base.sync_dir(path));
  auto& journal = state_->journal;
  for (auto it = journal.begin(); it != journal.end();) {
    it->pending_dirs.erase(n);
    if (!it->pending_dirs.empty()) {
      ++it;
      continue;
    }
    // Durable: the displaced file is gone for good.
    if (!it->backup.empty()) (void)state_->base.remove(it->backup);
    it = journal.erase(it);
  }
  return Status::ok_status();
}

Result<std::vector<std::string>> fault_env::list(const std::string& dir) {
  KAPPA_ASSIGN_OR_RETURN(std::vector<std::string> names, state_->base.list(dir));
  std::erase_if(names, [](const std::string& name) { return name.starts_with(internal::backup_prefix); });
  return names;
}

bool fault_env::is_dir(const std::string& path) { return state_->base.is_dir(path); }

Result<std::unique_ptr<file_lock>> fault_env::lock(const std::string& path) {
  std::lock_guard<std::mutex> g(state_->mu);
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<file_lock> base_lock, state_->base.lock(path));
  return internal::new_fault_lock(state_, std::move(base_lock));
}

int64_t fault_env::now_ms() {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->now_ms ? *state_->now_ms : state_->base.now_ms();
}

void fault_env::set_now_ms(int64_t now_ms) {
  std::lock_guard<std::mutex> g(state_->mu);
  state_->now_ms = now_ms;
}

void fault_env::crash(crash_mode mode, uint64_t seed) {
  std::map<uint64_t, std::unique_ptr<file_lock>> released;  // let go after the mutex
  std::lock_guard<std::mutex> g(state_->mu);
  state& s = *state_;
  env& base = s.base;
  ++s.generation;
  released.swap(s.locks);  // a dead process holds no locks
  s.death_at = UINT64_MAX;  // the restarted process may mutate again

  // Undo the namespace, newest first. A step whose files are no longer there
  // (e.g. removed by remove_all) is skipped.
  for (auto it = s.journal.rbegin(); it != s.journal.rend(); ++it) {
    namespace_op& op = *it;
    switch (op.what) {
      case namespace_op::kind::create:
        if (base.exists(op.path) && !base.is_dir(op.path)) (void)base.remove(op.path);
        s.files.erase(op.path);
        break;
      case namespace_op::kind::rename:
        if (base.exists(op.to) && base.rename(op.to, op.path).ok()) rekey(s.files, op.to, op.path);
        if (!op.backup.empty() && base.exists(op.backup) && base.rename(op.backup, op.to).ok() && op.displaced) {
          s.files[op.to] = std::move(op.displaced);
        }
        break;
      case namespace_op::kind::remove:
        if (base.exists(op.backup) && base.rename(op.backup, op.path).ok() && op.displaced) {
          s.files[op.path] = std::move(op.displaced);
        }
        break;
    }
  }
  s.journal.clear();

  // Cut every file back to what reached the disk. Files are visited in path
  // order, so a seed always tears the same files the same way.
  std::mt19937_64 rng(seed);
  for (auto it = s.files.begin(); it != s.files.end();) {
    tracked_file& t = *it->second;
    if (!base.exists(it->first)) {
      it = s.files.erase(it);
      continue;
    }
    KAPPA_ASSERT(t.synced_size <= t.size);
    uint64_t keep = t.synced_size;
    if (mode == crash_mode::keep_random_unsynced_prefix) keep += rng() % (t.size - t.synced_size + 1);
    if (keep < t.size || !t.undo.empty()) {
      auto f = base.open(it->first, open_mode::read_write);
      if (f.ok()) {
        for (auto u = t.undo.rbegin(); u != t.undo.rend(); ++u) (void)(*f)->pwrite(u->offset, u->old_bytes);
        if (keep < t.size) (void)(*f)->truncate(keep);
      }
    }
    // What survived is, by definition, what the disk holds durably.
    t.size = t.synced_size = keep;
    t.undo.clear();
    ++it;
  }
}

void fault_env::fail_next_write(int errnum) {
  std::lock_guard<std::mutex> g(state_->mu);
  state_->fail_next_write_errno = errnum;
}

void fault_env::fail_next_sync(int errnum) {
  std::lock_guard<std::mutex> g(state_->mu);
  state_->fail_next_sync_errno = errnum;
}

void fault_env::set_space_limit_bytes(uint64_t limit) {
  std::lock_guard<std::mutex> g(state_->mu);
  state_->space_limit_bytes = limit;
}

void fault_env::fail_all_after(uint64_t ops) {
  std::lock_guard<std::mutex> g(state_->mu);
  const uint64_t m = state_->mutations;
  state_->death_at = ops > UINT64_MAX - m ? UINT64_MAX : m + ops;
}

Status fault_env::flip_bit(const std::string& path, uint64_t byte_offset, int bit) {
  if (bit < 0 || bit > 7) return Status::from_errno(EINVAL, "flip_bit " + path + " (bit must be 0..7)");
  std::lock_guard<std::mutex> g(state_->mu);
  // Through the base, so no counter moves and every mapping sees the change.
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<file> f, state_->base.open(path, open_mode::read_write));
  uint8_t byte = 0;
  KAPPA_ASSIGN_OR_RETURN(size_t n, f->pread(byte_offset, {&byte, 1}));
  if (n != 1) return Status::from_errno(EINVAL, "flip_bit " + path + " (offset past end of file)");
  byte ^= static_cast<uint8_t>(1u << bit);
  return f->pwrite(byte_offset, {&byte, 1});
}

uint64_t fault_env::write_count() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->writes;
}

uint64_t fault_env::sync_count() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->syncs;
}

uint64_t fault_env::mutation_count() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->mutations;
}

}  // namespace kappa::storage
