// replication::raft_group: opening a group and its public entry points
// (raft_group.h). The ready cycle is in raft_group_ready.cc.
#include "replication/group/raft_group.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "proto/format/batch_validator.h"
#include "replication/group/raft_group_impl.h"
#include "replication/raft/errc.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::replication {

namespace {
// The group whose strand task runs on this thread (shutdown() from inside a
// callback must not wait for the strand it is on).
thread_local const void* tls_running = nullptr;
// Messages held while an fsync is in flight; more are dropped (Raft resends).
constexpr size_t kInboxMessagesMax = 8192;
}  // namespace

void raft_group::impl::post(std::function<void()> fn) {
  strand([self = owner.lock(), fn = std::move(fn)] {
    if (!self) return;
    const auto* saved = tls_running;
    tls_running = self->impl_.get();
    fn();
    tls_running = saved;
  });
}

raft_group::raft_group(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

raft_group::~raft_group() {
  // Every posted task holds the group, so nothing else runs now; a
  // shutdown() whose strand task never ran still gets its final write.
  impl_->stopped = true;
  if (!impl_->final_written) impl_->final_write();
}

Result<std::shared_ptr<raft_group>> raft_group::create(group_options options, executor_fn strand,
                                                       executor_fn flusher, transport& net,
                                                       listener l) {
  if (options.log == nullptr || options.env == nullptr || options.state_path.empty() ||
      options.epoch_cache_path.empty() || options.self == raft::no_node || !strand || !flusher) {
    return raft::error(
        raft::errc::invalid_argument,
        "group " + options.name +
            ": log, env, state and epoch cache paths, self and executors are required");
  }
  storage::log& log = *options.log;
  storage::env& env = *options.env;
  auto im = std::make_unique<impl>(std::move(options), std::move(strand), std::move(flusher), net,
                                   std::move(l));
  const std::string& name = im->opts.name;

  // Protocol-aware recovery: cut the log at the damage, then rejoin without
  // voting until it again reaches the end it had.
  int64_t end_before = -1;
  if (Status st = log.status(); !st.ok()) {
    auto repaired = log.repair_corruption();
    if (!repaired.ok()) {
      return Status(st.code(), "group " + name + ": the log is unusable (" + st.message() +
                                   ") and cannot be repaired: " + repaired.status().message());
    }
    const storage::corruption_repair rep = *repaired;
    spdlog::warn(
        "group {}: log corruption ({}); truncated at offset {}, it ended at {} before the damage",
        name, st.message(), rep.truncated_at, rep.end_before);
    end_before = rep.end_before;
    im->recovering = true;
  }
  for (const std::string* path : {&im->opts.state_path, &im->opts.epoch_cache_path}) {
    KAPPA_RETURN_IF_ERROR(env.create_dirs(storage::parent_dir(*path)));
  }
  KAPPA_ASSIGN_OR_RETURN(im->epochs, epoch_cache::open(env, im->opts.epoch_cache_path, log));
  if (im->epochs->rebuilt()) spdlog::info("group {}: epoch cache rebuilt from the log", name);

  persisted_state st;
  bool fresh = false;
  auto read = read_persisted_state(env, im->opts.state_path);
  if (read.ok()) {
    st = *read;
  } else if (read.status().code() == storage::errc::not_found) {
    fresh = true;
    st.conf = im->opts.initial;
  } else {
    return read.status();
  }
  const int64_t first = log.log_start_offset(), end = log.log_end_offset();
  const int64_t old_commit = st.hard.commit.value;
  if (st.hard.commit.value > end - 1) {
    // The log lost committed entries (a repaired corruption, or unsynced
    // writes under durable=false): relearn them before voting.
    spdlog::warn(
        "group {}: commit {} is past the log end {}; rejoining without a vote until it is "
        "refetched",
        name, st.hard.commit.value, end);
    st.hard.commit = raft::log_index(end - 1);
    im->recovering = true;
  }
  // Everything below the log start came from a leader that had committed it.
  st.hard.commit = std::max(st.hard.commit, raft::log_index(first - 1));
  st.conf_index = std::min(st.conf_index, st.hard.commit);
  if (im->recovering) im->no_vote_until = std::max(old_commit, end_before - 1);

  im->view = std::make_unique<storage_log_view>(log, *im->epochs);
  im->codec = std::make_unique<batch_entry_codec>(im->opts.self, [&env] { return env.now_ms(); });
  raft::options o;
  o.id = im->opts.self;
  o.log = im->view.get();
  o.hard = st.hard;
  o.conf = st.conf;
  o.conf_index = st.conf_index;
  o.applied = raft::log_index(first - 1);
  o.election_tick = im->opts.election_tick;
  o.heartbeat_tick = im->opts.heartbeat_tick;
  o.seed = im->opts.seed ? im->opts.seed : im->opts.self.value;
  o.max_msg_bytes = im->opts.max_msg_bytes;
  o.codec = im->codec.get();
  if (im->recovering) o.no_vote_until = raft::log_index(im->no_vote_until);
  KAPPA_ASSIGN_OR_RETURN(im->node, raft::node::create(o));

  im->written = st;
  im->committed_conf = st.conf;
  im->committed_conf_index = st.conf_index;
  im->applied_end = st.hard.commit.value + 1;
  im->last_state_write_ms = env.now_ms();
  im->last_soft = {im->node->leader(), im->node->role()};
  im->last_term = im->node->term();
  if (fresh || !(read.ok() && *read == st))
    KAPPA_RETURN_IF_ERROR(write_persisted_state(env, im->opts.state_path, st));

  // At the first tick, not now: the caller registers the group with its
  // transport after create() returns, and the votes must find their way back.
  im->campaign_pending = fresh && im->opts.campaign_on_start && im->node->promotable();
  auto g = std::shared_ptr<raft_group>(new raft_group(std::move(im)));
  g->impl_->owner = g;
  g->impl_->publish_status();
  return g;
}

void raft_group::step(raft::message m) {
  if (impl_->stopped) return;
  impl_->post([this, m = std::move(m)]() mutable {
    impl& i = *impl_;
    if (i.stopped) return;
    if (i.inbox.size() >= kInboxMessagesMax) {
      // An fsync that stalls this long has the peers retrying anyway.
      spdlog::debug("group {}: inbox full ({} messages); message dropped", i.opts.name,
                    i.inbox.size());
      return;
    }
    i.inbox.push_back(std::move(m));
    i.process();
  });
}

void raft_group::tick() {
  if (impl_->stopped) return;
  impl_->post([this] {
    impl& i = *impl_;
    if (i.stopped) return;
    ++i.ticks;
    i.process();
  });
}

void raft_group::shutdown() {
  impl& i = *impl_;
  if (i.stopped.exchange(true)) return;
  if (tls_running == &i) {
    if (!i.in_flight) i.final_write();  // else finish_ready writes it when the flusher returns
    return;
  }
  impl_->post([this] {
    impl& i = *impl_;
    if (!i.in_flight) i.final_write();
  });
  std::unique_lock lk(i.done_mu);
  if (!i.done_cv.wait_for(lk, std::chrono::seconds(10), [&] { return i.done; })) {
    spdlog::error("group {}: shutdown did not finish writing its state within 10 s", i.opts.name);
  }
}

group_status raft_group::status() const {
  std::lock_guard lk(impl_->mu);
  return impl_->status;
}

bool raft_group::is_leader() const {
  return impl_->node->role() == raft::role::leader;
}

raft::term_id raft_group::term() const { return impl_->node->term(); }

Result<storage::append_result> raft_group::propose(std::string batch, int64_t offset_count) {
  impl& i = *impl_;
  if (i.stopped) return error(storage::errc::log_closed, "group " + i.opts.name + " is shut down");
  raft::node& n = *i.node;
  if (n.role() != raft::role::leader) {
    return raft::error(raft::errc::not_leader,
                       "node " + std::to_string(i.opts.self.value) + " is not the leader of " +
                           i.opts.name + "; leader is " +
                           (n.leader() == raft::no_node ? std::string("unknown")
                                                        : std::to_string(n.leader().value)));
  }
  if (n.transfer_target() != raft::no_node) {
    return raft::error(raft::errc::transfer_in_progress,
                       "leadership of " + i.opts.name + " is moving to node " +
                           std::to_string(n.transfer_target().value));
  }
  format::validation_limits limits;
  limits.max_batch_bytes = i.opts.log->config().max_batch_bytes;
  auto h =
      format::validate_batch(as_bytes(batch), limits, format::validation_depth::header_and_crc);
  if (!h.ok())
    return error(storage::errc::invalid_batch,
                 i.opts.name + ": batch rejected: " + h.status().message());
  if (h->size_bytes() != batch.size() || h->last_offset_delta + 1 != offset_count) {
    return error(storage::errc::invalid_batch,
                 i.opts.name + ": propose takes exactly one batch of offset_count offsets");
  }
  const int64_t base = i.proposals.empty() ? n.log().last_index().value + 1 : i.queued_end;
  format::stamp_batch(mutable_byte_view(reinterpret_cast<uint8_t*>(batch.data()), batch.size()),
                      base, static_cast<int32_t>(n.term().value));
  storage::append_result r{base, base + offset_count - 1};
  if (i.in_flight) {
    i.proposals.push_back({std::move(batch), offset_count, base, n.term()});
    i.queued_end = base + offset_count;
    return r;
  }
  auto got = n.propose(std::move(batch), offset_count);
  if (!got.ok()) return got.status();
  KAPPA_ASSERT(got->value == base);
  i.local_bases.emplace_back(base, n.term());
  if (!i.busy) i.process();
  return r;
}

Status raft_group::change_membership(raft::config_change cc) {
  impl& i = *impl_;
  if (i.in_flight || !i.proposals.empty()) {
    // Applied after the queued proposals (whose offsets are promised);
    // the outcome shows in status().membership.
    i.controls.push_back({cc, raft::no_node});
    return Status();
  }
  KAPPA_RETURN_IF_ERROR(i.node->propose_config_change(cc));
  if (!i.busy) i.process();
  return Status();
}

Status raft_group::transfer_leadership(raft::node_id to) {
  impl& i = *impl_;
  if (i.in_flight || !i.proposals.empty()) {
    i.controls.push_back({std::nullopt, to});
    return Status();
  }
  KAPPA_RETURN_IF_ERROR(i.node->transfer_leadership(to));
  if (!i.busy) i.process();
  return Status();
}

}  // namespace kappa::replication
