// The consumer's side of group membership: poll() applies the member's
// assignment changes on the polling thread, in the order consumer.h states
// (revocations, then additions), and close()/unsubscribe() leave.
//
// Callbacks run with neither mu_ nor any lock of the member held, so they
// may call seek(), position(), commit_sync() and assignment(). Partitions
// being added are `held` (not fetched, positions not resolved) until
// on_assigned returned, so a seek there takes effect before any fetch.
#include <algorithm>
#include <chrono>

#include "client/src/backoff.h"
#include "client/src/consumer_group.h"
#include "client/src/consumer_impl.h"

namespace kappa {

using client::now_ms;

std::shared_ptr<client::group_member> consumer::impl::group() const {
  std::lock_guard lock(mu_);
  return group_;
}

void consumer::impl::on_group_change() {
  std::lock_guard lock(mu_);
  group_dirty_ = true;
  data_cv_.notify_all();
}

std::map<topic_partition, int64_t> consumer::impl::positions_locked(
    const std::set<topic_partition>* only) const {
  std::map<topic_partition, int64_t> out;
  for (const auto& [tp, s] : parts_) {
    if (only != nullptr && !only->count(tp)) continue;
    if (!s.held && s.position >= 0) out[tp] = s.position;
  }
  return out;
}

void consumer::impl::remove_partitions_locked(const std::set<topic_partition>& tps) {
  for (const auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;
    drop_buffered(it->second);
    detach_stream(it->second);
    parts_.erase(it);
  }
}

void consumer::impl::run_callback(consumer& self, bool lost_not_revoked, bool assigned,
                                  const std::set<topic_partition>& tps) {
  if (tps.empty()) return;
  std::function<void(consumer&, const std::vector<topic_partition>&)> fn;
  {
    std::lock_guard lock(mu_);
    if (assigned) {
      fn = listener_.on_assigned;
    } else if (lost_not_revoked && listener_.on_lost) {
      fn = listener_.on_lost;
    } else {
      fn = listener_.on_revoked;
    }
  }
  if (fn) fn(self, std::vector<topic_partition>(tps.begin(), tps.end()));
}

Status consumer::impl::reconcile_group(consumer& self) {
  std::shared_ptr<client::group_member> g;
  std::set<topic_partition> owned;
  {
    std::lock_guard lock(mu_);
    group_dirty_ = false;
    g = group_;
    for (const auto& [tp, s] : parts_) owned.insert(tp);
  }
  if (!g) return Status();
  if (auto error = g->take_error()) return *error;
  client::group_member::view view = g->current();

  // Fenced: what it owned may be another member's already. No commit.
  if (view.fence_generation != seen_fence_generation_) {
    run_callback(self, /*lost_not_revoked=*/true, /*assigned=*/false, owned);
    {
      std::lock_guard lock(mu_);
      if (group_ != g || closed_) return Status();
      remove_partitions_locked(owned);
    }
    owned.clear();
    seen_fence_generation_ = view.fence_generation;
    view = g->current();
    if (view.fence_generation != seen_fence_generation_) {
      on_group_change();  // fenced again meanwhile: the next round
      return Status();
    }
  }
  const uint64_t generation = view.fence_generation;

  if (config_.enable_auto_commit && now_ms() >= next_auto_commit_ms_) {
    next_auto_commit_ms_ = now_ms() + config_.auto_commit_interval_ms;
    std::map<topic_partition, int64_t> positions;
    {
      std::lock_guard lock(mu_);
      positions = positions_locked(nullptr);
    }
    if (!positions.empty()) g->commit_async(std::move(positions), {});
  }
  if (!view.has_assignment) return Status();

  // 1. Revocations: commit, on_revoked, stop fetching, report let go.
  std::set<topic_partition> revoked;
  std::set_difference(owned.begin(), owned.end(), view.target.begin(), view.target.end(),
                      std::inserter(revoked, revoked.end()));
  if (!revoked.empty()) {
    if (config_.enable_auto_commit) {
      std::map<topic_partition, int64_t> positions;
      {
        std::lock_guard lock(mu_);
        positions = positions_locked(&revoked);
      }
      // A failed commit (fenced meanwhile, coordinator gone past the
      // deadline) must not keep the partitions: the group would stall.
      (void)g->commit(std::move(positions), now_ms() + config_.client.request_timeout_ms);
    }
    run_callback(self, false, false, revoked);
    {
      std::lock_guard lock(mu_);
      // The callback unsubscribed or closed: leave_group took everything.
      if (group_ != g || closed_) return Status();
      remove_partitions_locked(revoked);
    }
    for (const auto& tp : revoked) owned.erase(tp);
    g->set_owned(owned, generation);
  }

  // 2. Additions: committed offsets (or auto_offset_reset), on_assigned, fetch.
  std::set<topic_partition> added;
  std::set_difference(view.target.begin(), view.target.end(), owned.begin(), owned.end(),
                      std::inserter(added, added.end()));
  if (added.empty()) return Status();
  auto committed = g->fetch_offsets(std::vector<topic_partition>(added.begin(), added.end()),
                                    now_ms() + config_.client.request_timeout_ms);
  if (!committed.ok()) {
    // Not taken yet: the next poll tries again (the coordinator keeps
    // them assigned meanwhile).
    return is_retriable(committed.status().code()) ? Status() : committed.status();
  }
  {
    std::lock_guard lock(mu_);
    if (group_ != g || closed_) return Status();
    for (const auto& tp : added) {
      partition_state& s = parts_[tp];
      s.held = true;
      auto c = committed->find(tp);
      if (c != committed->end() && c->second.offset >= 0) {
        ++s.epoch;
        s.position = s.fetch_offset = c->second.offset;
        s.reset_spec.reset();
      } else {
        set_reset(s);
      }
    }
  }
  run_callback(self, false, true, added);
  {
    std::lock_guard lock(mu_);
    if (group_ != g || closed_) return Status();
    for (const auto& tp : added) {
      auto it = parts_.find(tp);
      if (it != parts_.end()) it->second.held = false;
    }
    wake_fetcher();
  }
  owned.insert(added.begin(), added.end());
  g->set_owned(std::move(owned), generation);
  return Status();
}

void consumer::impl::leave_group(consumer& self) {
  std::shared_ptr<client::group_member> g;
  std::set<topic_partition> owned;
  std::map<topic_partition, int64_t> positions;
  {
    std::lock_guard lock(mu_);
    // unsubscribe()/close() from the on_revoked this runs: already leaving.
    if (!group_ || leaving_) return;
    leaving_ = true;
    g = group_;
    for (const auto& [tp, s] : parts_) owned.insert(tp);
    positions = positions_locked(nullptr);
  }
  const int64_t deadline = now_ms() + config_.client.request_timeout_ms;
  if (g->current().fence_generation != seen_fence_generation_) {
    run_callback(self, true, false, owned);
  } else {
    if (config_.enable_auto_commit && !positions.empty())
      (void)g->commit(std::move(positions), deadline);
    run_callback(self, false, false, owned);
  }
  g->flush_commits(deadline);  // what the callbacks (or earlier polls) queued
  {
    std::lock_guard lock(mu_);
    for (const auto& [tp, s] : parts_) owned.insert(tp);
    remove_partitions_locked(owned);
    group_.reset();
    listener_ = {};
    group_dirty_ = false;
    leaving_ = false;
  }
  (void)g->leave(deadline);
  // `g` is the last reference: the member's threads are joined here,
  // without mu_ (they may be waiting for it in on_group_change).
}

}  // namespace kappa
