// fault_env's file handles and locks (the env itself is in fault_env.cc).
#include <algorithm>
#include <cerrno>

#include "storage/fault_env_internal.h"

namespace kappa::storage::internal {
namespace {

class fault_file final : public file {
 public:
  fault_file(std::shared_ptr<fault_state> state, std::unique_ptr<file> base, std::shared_ptr<tracked_file> tracked,
             std::string path)
      : state_(std::move(state)),
        base_(std::move(base)),
        tracked_(std::move(tracked)),
        path_(std::move(path)),
        generation_(state_->generation) {}

  Status pwrite(uint64_t offset, byte_view data) override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("pwrite"));
    ++state_->writes;
    KAPPA_RETURN_IF_ERROR(state_->begin_mutation("pwrite " + path_));
    if (int e = state_->fail_next_write_errno) {
      state_->fail_next_write_errno = 0;
      return Status::from_errno(e, "pwrite " + path_ + " (fault_env: injected)");
    }
    tracked_file& t = *tracked_;
    size_t n = data.size();
    bool out_of_space = false;
    const uint64_t used = state_->total_bytes();
    const uint64_t growth = offset + n > t.size ? offset + n - t.size : 0;
    if (used + growth > state_->space_limit_bytes) {
      // Like a full disk: write what fits, then report ENOSPC.
      const uint64_t room = state_->space_limit_bytes > used ? state_->space_limit_bytes - used : 0;
      const uint64_t end_max = t.size + room;
      n = end_max > offset ? static_cast<size_t>(std::min<uint64_t>(n, end_max - offset)) : 0;
      out_of_space = true;
    }
    KAPPA_RETURN_IF_ERROR(remember_overwrite(offset, n));
    if (n > 0) {
      Status st = base_->pwrite(offset, data.first(n));
      if (!st.ok()) {
        // A prefix may have landed; believe the base about the new size.
        if (auto size = base_->size(); size.ok()) t.size = *size;
        return st;
      }
      t.size = std::max<uint64_t>(t.size, offset + n);
    }
    if (out_of_space) return Status::from_errno(ENOSPC, "pwrite " + path_ + " (fault_env: space limit)");
    return Status::ok_status();
  }

  Result<size_t> pread(uint64_t offset, mutable_byte_view out) override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("pread"));
    return base_->pread(offset, out);
  }

  Status sync() override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("sync"));
    ++state_->syncs;
    KAPPA_RETURN_IF_ERROR(state_->begin_mutation("sync " + path_));
    if (int e = state_->fail_next_sync_errno) {
      state_->fail_next_sync_errno = 0;
      return Status::from_errno(e, "sync " + path_ + " (fault_env: injected)");
    }
    KAPPA_RETURN_IF_ERROR(base_->sync());
    tracked_->synced_size = tracked_->size;
    tracked_->undo.clear();
    return Status::ok_status();
  }

  Status truncate(uint64_t size) override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("truncate"));
    KAPPA_RETURN_IF_ERROR(state_->begin_mutation("truncate " + path_));
    KAPPA_RETURN_IF_ERROR(base_->truncate(size));
    tracked_file& t = *tracked_;
    t.size = size;
    // A shrink is taken as durable at once (the simpler, conservative model:
    // bytes cut away never come back), so nothing past it is remembered.
    if (size < t.synced_size) t.synced_size = size;
    std::erase_if(t.undo, [size](const tracked_file::overwrite& o) { return o.offset >= size; });
    for (auto& o : t.undo) {
      if (o.offset + o.old_bytes.size() > size) o.old_bytes.resize(size - o.offset);
    }
    return Status::ok_status();
  }

  Result<uint64_t> size() override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("size"));
    return base_->size();
  }

  Result<std::shared_ptr<const mapped_region>> map(uint64_t length) override {
    std::lock_guard<std::mutex> g(state_->mu);
    KAPPA_RETURN_IF_ERROR(check_alive("map"));
    return base_->map(length);
  }

 private:
  // REQUIRES: state_->mu held.
  Status check_alive(const char* op) const {
    if (generation_ != state_->generation) {
      return Status::from_errno(EIO, std::string(op) + " " + path_ + " (fault_env: handle from before a crash)");
    }
    return Status::ok_status();
  }

  // REQUIRES: state_->mu held. Saves the durable bytes [offset, offset + n)
  // is about to overwrite, so a crash can restore them.
  Status remember_overwrite(uint64_t offset, size_t n) {
    tracked_file& t = *tracked_;
    if (n == 0 || offset >= t.synced_size) return Status::ok_status();
    byte_buffer old(static_cast<size_t>(std::min<uint64_t>(n, t.synced_size - offset)));
    KAPPA_ASSIGN_OR_RETURN(size_t got, base_->pread(offset, old));
    KAPPA_ASSERT(got == old.size());  // synced bytes exist: synced_size <= size
    t.undo.push_back({offset, std::move(old)});
    return Status::ok_status();
  }

  std::shared_ptr<fault_state> state_;
  std::unique_ptr<file> base_;
  std::shared_ptr<tracked_file> tracked_;
  std::string path_;
  const uint64_t generation_;
};

class fault_lock final : public file_lock {
 public:
  fault_lock(std::shared_ptr<fault_state> state, uint64_t id) : state_(std::move(state)), id_(id) {}
  ~fault_lock() override {
    std::unique_ptr<file_lock> released;  // destroyed after the mutex is let go
    std::lock_guard<std::mutex> g(state_->mu);
    auto it = state_->locks.find(id_);
    if (it != state_->locks.end()) {
      released = std::move(it->second);
      state_->locks.erase(it);
    }
  }

 private:
  std::shared_ptr<fault_state> state_;
  uint64_t id_;
};

}  // namespace

std::unique_ptr<file> new_fault_file(std::shared_ptr<fault_state> state, std::unique_ptr<file> base_file,
                                     std::shared_ptr<tracked_file> tracked, std::string path) {
  return std::make_unique<fault_file>(std::move(state), std::move(base_file), std::move(tracked), std::move(path));
}

std::unique_ptr<file_lock> new_fault_lock(std::shared_ptr<fault_state> state, std::unique_ptr<file_lock> base_lock) {
  const uint64_t id = state->next_lock_id++;
  state->locks.emplace(id, std::move(base_lock));
  return std::make_unique<fault_lock>(std::move(state), id);
}

}  // namespace kappa::storage::internal
