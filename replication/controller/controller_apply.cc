// The image side of the controller: committed batches -> the image, and
// what waits on it (pending submits, apply waiters, long polls).
#include <spdlog/spdlog.h>

#include "replication/controller/controller_core.h"
#include "replication/controller/errc.h"
#include "replication/controller/metadata_batches.h"

namespace kappa::controller {

Status core::apply_batch(byte_view batch) {
  auto next = walk_metadata_batches(batch, applied_end, [this](int64_t offset, metadata_record r) {
    if (const auto* d = std::get_if<delete_topic_record>(&r)) {
      // Leadership reports of a deleted topic must not outlive it: a
      // re-created topic starts its epochs again.
      auto it = leader_table.lower_bound({d->name, 0});
      while (it != leader_table.end() && it->first.first == d->name) it = leader_table.erase(it);
    }
    return apply(image, r, offset);
  });
  if (!next.ok()) return next.status();
  applied_end = std::max(applied_end, *next);
  return {};
}

Status core::catch_up(int64_t end) {
  while (applied_end < end) {
    auto view = log->read(applied_end, kFetchBytesMax, end);
    if (!view.ok()) return view.status();
    if (view->batches.empty()) break;
    KAPPA_RETURN_IF_ERROR(apply_batch(view->batches));
  }
  return {};
}

void core::publish() {
  auto img = std::make_shared<const metadata_image>(image);
  std::function<void(std::shared_ptr<const metadata_image>)> cb;
  {
    std::lock_guard lk(mu);
    published = img;
    cb = image_cb;
  }
  if (cb) cb(img);
}

void core::resolve_applied() {
  for (auto it = pendings.begin(); it != pendings.end() && it->first < applied_end;) {
    auto done = std::move(it->second.done);
    auto result = it->second.result;
    it = pendings.erase(it);
    done(result);
  }
  for (size_t i = 0; i < apply_waiters.size();) {
    if (apply_waiters[i].offset < applied_end) {
      auto done = std::move(apply_waiters[i].done);
      apply_waiters.erase(apply_waiters.begin() + static_cast<std::ptrdiff_t>(i));
      done();
    } else {
      ++i;
    }
  }
  wake_fetch_waiters(false);
}

void core::on_raft_apply(const raft::entry& e) {
  // After shutdown the log may be closed: the image stays as it is.
  if (stopping()) return;
  if (apply_failed || e.last_index.value < applied_end) return;  // applied already
  const int64_t before = image.offset;
  Status st;
  // A runner that resumes applying from its persisted commit after a
  // restart leaves a gap: the committed prefix is in the local log.
  if (e.base_index.value > applied_end) st = catch_up(e.base_index.value);
  if (st.ok()) {
    if (e.type == raft::entry_type::normal) {
      st = apply_batch(as_bytes(e.payload));
    } else {
      applied_end = e.last_index.value + 1;
    }
  }
  if (!st.ok()) {
    // The image can no longer follow the log; serving a wrong image would be
    // worse than serving a stale one.
    apply_failed = true;
    spdlog::error("controller: cannot apply the metadata log: {}", st.to_string());
    return;
  }
  if (image.offset != before) publish();
  resolve_applied();
}

void core::on_raft_truncate(int64_t from) {
  spec_valid = false;
  for (auto it = pendings.lower_bound(from); it != pendings.end();) {
    auto done = std::move(it->second.done);
    it = pendings.erase(it);
    done(error(errc::not_controller,
               "the proposal was overwritten by a new controller leader; retry"));
  }
}

void core::on_raft_role(const replication::group_status& st) {
  if (stopping()) return;
  const bool leader =
      st.role == raft::role::leader && st.leader.value == static_cast<uint64_t>(opts.self);
  if (leader && !was_leader) {
    // Give every registered broker one liveness window to heartbeat to the
    // new leader before placement leaves it out.
    const auto now = clock::now();
    for (const auto& [id, _] : image.brokers) last_seen[id] = now;
    spec_valid = false;
    leader_table.clear();
  } else if (!leader && was_leader) {
    last_seen.clear();
    registering.clear();
    spec_valid = false;
  }
  was_leader = leader;
  std::lock_guard lk(mu);
  view_controller_leader = st.leader == raft::no_node ? -1 : static_cast<int32_t>(st.leader.value);
}

}  // namespace kappa::controller
