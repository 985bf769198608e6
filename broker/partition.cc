// partition: opening over its Raft group, the producer-state snapshot,
// reads, waiters, configs, delete-records and retirement. Produce and the
// group's callbacks are in partition_produce.cc; reassignment in
// partition_reassign.cc.
#include "broker/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "broker/errc.h"
#include "broker/metrics.h"
#include "broker/partition_internal.h"
#include "proto/format/record_batch.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {

storage::log_config storage_config_for(const storage::log_config& topic_config) {
  storage::log_config c = topic_config;
  c.flush = storage::flush_policy::interval;
  return c;
}

partition::partition(const partition_options& o, runtime& rt, metrics& m, storage::env& e)
    : id_(o.id),
      log_(o.log),
      self_(o.self),
      rt_(rt),
      metrics_(m),
      env_(e),
      snapshot_path_(o.log->dir() + "/producer.snapshot"),
      strand_(std::make_unique<strand_holder>(rt)),
      config_(o.config),
      s_(std::make_unique<strand_state>()) {}

// The group, if still running, writes its state when its last reference
// goes (raft_group's destructor): shutting it down here could block on the
// very strand this destructor may run on.
partition::~partition() = default;

Result<std::shared_ptr<partition>> partition::open(const partition_options& o, runtime& rt,
                                                   metrics& m, storage::env& e,
                                                   replication::transport& net) {
  KAPPA_ASSERT(o.log != nullptr);
  o.log->set_config(storage_config_for(o.config));
  std::shared_ptr<partition> p(new partition(o, rt, m, e));
  KAPPA_RETURN_IF_ERROR(p->load_producer_state());
  p->s_->persisted_end = o.log->durable_end_offset();

  replication::group_options g;
  g.name = o.id.dir_name();
  g.self = raft::node_id(uint64_t(o.self));
  g.log = o.log;
  g.env = &e;
  g.state_path = o.log->dir() + "/raft.state";
  g.epoch_cache_path = o.log->dir() + "/leader-epoch-checkpoint";
  for (int32_t r : o.replicas) g.initial.voters.push_back(raft::node_id(uint64_t(r)));
  std::sort(g.initial.voters.begin(), g.initial.voters.end());
  g.initial.voters.erase(std::unique(g.initial.voters.begin(), g.initial.voters.end()),
                         g.initial.voters.end());
  g.durable = o.config.flush == storage::flush_policy::always;
  g.campaign_on_start = o.preferred_leader;
  g.seed = std::hash<std::string>{}(g.name) ^ (uint64_t(o.self) * 0x9E3779B97F4A7C15ull);

  // Group work that outlives the partition, or runs after retire() removed
  // the log, is dropped: nobody waits for it, and the log may be gone.
  std::weak_ptr<partition> weak = p;
  replication::executor_fn strand = [weak, h = p->strand_->strand](std::function<void()> f) {
    auto self = weak.lock();
    if (self && self->strand_inline_.load(std::memory_order_acquire)) {
      if (!self->retired_) f();
      return;
    }
    asio::post(h, [weak, f = std::move(f)] {
      auto self = weak.lock();
      if (self && !self->retired_) f();
    });
  };
  replication::executor_fn flusher = [weak, &rt](std::function<void()> f) {
    asio::post(rt.flushers, [weak, f = std::move(f)] {
      auto self = weak.lock();
      if (!self) return;
      std::shared_lock lk(self->life_mu_);  // retire() waits for this fsync
      if (self->retired_) return;
      const auto t0 = std::chrono::steady_clock::now();
      f();
      self->metrics_.fsync(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    });
  };
  KAPPA_ASSIGN_OR_RETURN(p->group_, replication::raft_group::create(std::move(g), strand, flusher,
                                                                    net, p->make_listener()));
  // On the strand, after whatever the group did meanwhile: on_role reports
  // changes only, so the starting state is read once.
  asio::post(p->strand_->strand, [p] { p->sync_role(); });
  return p;
}

void partition::sync_role() {
  if (retired_) return;
  const replication::group_status st = group_->status();
  advance_high_watermark(st.high_watermark);
  leader_id_.store(st.leader == raft::no_node ? -1 : int32_t(st.leader.value));
  leader_epoch_.store(st.term.value > 0 ? int32_t(st.term.value) : -1);
  is_leader_.store(st.role == raft::role::leader);
}

void partition::stop_replication() {
  if (group_ && !group_stopped_.exchange(true)) group_->shutdown();
}

storage::log_config partition::config() const {
  std::lock_guard lk(config_mu_);
  return config_;
}

Status partition::load_producer_state() {
  return rebuild_producer_state(env_, *log_, snapshot_path_, id_.dir_name(), &s_->producers);
}

Status partition::save_producer_state() {
  // The group first: nothing may append after the snapshot is taken.
  if (group_ && !group_stopped_.load()) {
    strand_inline_.store(true, std::memory_order_release);
    stop_replication();
  }
  if (retired_) return Status();
  return storage::write_metadata_file(env_, snapshot_path_, 1,
                                      s_->producers.encode(log_->log_end_offset()));
}

void partition::retire(std::function<void()> remove_log, std::function<void()> done) {
  // Off the strand: shutdown waits for a task on it.
  stop_replication();
  asio::post(strand_->strand, [self = shared_from_this(), remove_log = std::move(remove_log),
                               done = std::move(done)] {
    {
      std::unique_lock lk(self->life_mu_);  // waits for a group fsync in flight
      self->retired_ = true;
    }
    self->fail_all_pending(self->gone());
    self->wake_all();
    // Every later use of log_ sees retired_ first (strand code, group tasks,
    // or readers under life_mu_), so the log can go now.
    remove_log();
    (void)self->env_.remove(self->snapshot_path_);
    done();
  });
}

int64_t partition::log_start_offset() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? -1 : log_->log_start_offset();
}
int64_t partition::log_end_offset() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? -1 : log_->log_end_offset();
}
uint64_t partition::size_bytes() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? 0 : log_->size_bytes();
}
int partition::segment_count() const {
  std::shared_lock lk(life_mu_);
  return retired_ ? 0 : log_->segment_count();
}

partition_sample partition::sample() const {
  partition_sample s;
  s.topic = id_.topic;
  s.partition = id_.partition;
  s.log_start_offset = log_start_offset();
  s.log_end_offset = log_end_offset();
  s.high_watermark = high_watermark();
  s.segments = segment_count();
  s.size_bytes = int64_t(size_bytes());
  s.leader = leader_id();
  s.leader_epoch = leader_epoch();
  s.is_leader = is_leader();
  if (s.is_leader && group_) {
    const replication::group_status st = group_->status();
    s.voters = int32_t(st.membership.voters.size());
    for (raft::node_id n : st.in_sync) s.in_sync += st.membership.is_voter(n) ? 1 : 0;
  }
  return s;
}

Status partition::gone() const {
  return error(errc::unknown_topic_or_partition, id_.dir_name() + " was deleted");
}

Status partition::not_leader() const {
  const int32_t leader = leader_id();
  return error(errc::not_leader_or_follower,
               leader > 0 && leader != self_ ? std::to_string(leader) : std::string());
}

replication::group_status partition::raft_status() const {
  return group_ ? group_->status() : replication::group_status{};
}

void partition::step(raft::message m) {
  if (!group_stopped_.load(std::memory_order_acquire)) group_->step(std::move(m));
}

void partition::tick() {
  if (group_stopped_.load(std::memory_order_acquire)) return;
  group_->tick();
  // Produce deadlines are checked at tick granularity (kTickMs), and only
  // when something waits.
  if (pending_count_.load(std::memory_order_relaxed) > 0) {
    asio::post(strand_->strand, [self = shared_from_this()] {
      if (!self->retired_) self->expire_acks();
    });
  }
}

Result<storage::read_view> partition::read(int64_t offset, size_t max_bytes) const {
  std::shared_lock lk(life_mu_);
  if (retired_) return gone();
  const int64_t hw = high_watermark();
  const int64_t start = log_->log_start_offset();
  if (offset < start || offset > hw) {
    return error(errc::offset_out_of_range,
                 "offset " + std::to_string(offset) + " is outside the valid range [" +
                     std::to_string(start) + ", " + std::to_string(hw) + "] of " + id_.dir_name());
  }
  if (offset == hw) return storage::read_view{nullptr, {}, offset};
  auto r = log_->read(offset, max_bytes, hw);
  if (!r.ok() && r.status().code() == storage::errc::offset_out_of_range) {
    // Retention moved the start between our check and the read.
    return error(errc::offset_out_of_range, r.status().message());
  }
  return r;
}

Result<std::optional<int64_t>> partition::offset_for_timestamp(int64_t timestamp_ms) const {
  std::shared_lock lk(life_mu_);
  if (retired_) return gone();
  KAPPA_ASSIGN_OR_RETURN(auto off, log_->offset_for_timestamp(timestamp_ms));
  if (off && *off >= high_watermark()) return std::optional<int64_t>();
  return off;
}

uint64_t partition::add_waiter(std::function<void()> wake) {
  std::lock_guard lk(waiters_mu_);
  if (waiters_.size() >= kWaitersMax) return 0;
  const uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void partition::remove_waiter(uint64_t id) {
  std::lock_guard lk(waiters_mu_);
  waiters_.erase(id);
}

void partition::wake_all() {
  std::map<uint64_t, std::function<void()>> woken;
  {
    std::lock_guard lk(waiters_mu_);
    woken.swap(waiters_);
  }
  for (auto& [_, w] : woken) asio::post(rt_.workers, std::move(w));
}

void partition::set_config(const storage::log_config& config) {
  {
    std::lock_guard lk(config_mu_);
    config_ = config;
  }
  // The group's durability (flush.policy) is fixed when it is created: a
  // changed policy applies from the next open.
  asio::post(strand_->strand, [self = shared_from_this(), config] {
    if (!self->retired_) self->log_->set_config(storage_config_for(config));
  });
}

void partition::delete_records(int64_t before_offset, std::function<void(Result<int64_t>)> done) {
  asio::post(strand_->strand, [self = shared_from_this(), before_offset, done = std::move(done)] {
    if (self->retired_) return done(self->gone());
    // LIMITATION: only the leader's log start moves; followers keep their
    // own until retention deletes the segments (the move is not replicated
    // through the Raft log).
    if (!self->group_->is_leader()) return done(self->not_leader());
    const int64_t hw = self->high_watermark();
    const int64_t target = before_offset == -1 ? hw : before_offset;
    if (target < 0 || target > hw) {
      return done(error(errc::offset_out_of_range,
                        "before_offset " + std::to_string(before_offset) + " is outside [0, " +
                            std::to_string(hw) + "] (-1 = high watermark)"));
    }
    if (target <= self->log_->log_start_offset()) return done(self->log_->log_start_offset());
    Status st = self->log_->truncate_prefix(target);
    if (!st.ok()) return done(st);
    done(self->log_->log_start_offset());
  });
}

}  // namespace kappa::broker
