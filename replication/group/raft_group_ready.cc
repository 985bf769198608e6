// replication::raft_group: the ready/advance cycle (raft_group.h, raft.h).
//
//   strand:  get_ready -> truncate / append to the log (page cache), update
//            the epoch cache -> post the fsync (and state file) job
//   flusher: log->flush(), write the state file
//   strand:  send messages -> on_persisted -> apply committed entries ->
//            advance -> drain what queued meanwhile -> loop
#include <spdlog/spdlog.h>

#include <algorithm>

#include "proto/format/batch_validator.h"
#include "replication/group/raft_group_impl.h"
#include "replication/raft/errc.h"

namespace kappa::replication {

namespace {
constexpr int64_t kCommitWriteIntervalMs = 1000;
constexpr int kCyclesPerTask = 64;  // ready cycles per strand task before yielding to others
}  // namespace

void raft_group::impl::process() {
  if (busy) return;
  busy = true;
  int cycles = 0;
  while (!stopped && !in_flight && cycles < kCyclesPerTask) {
    drain_queue();
    if (stopped || !node->has_ready()) break;
    handle_ready();
    ++cycles;
  }
  if (!stopped && !in_flight) maybe_write_state_lazily();
  busy = false;
  publish_status();
  if (cycles == kCyclesPerTask && !stopped && !in_flight) post([this] { process(); });
}

void raft_group::impl::drain_queue() {
  // Proposals first: their offsets are promised, and only proposals may
  // take them.
  bool failed = false;
  while (!proposals.empty()) {
    queued_proposal p = std::move(proposals.front());
    proposals.pop_front();
    raft::node& n = *node;
    const bool ok = !failed && n.role() == raft::role::leader && n.term() == p.term &&
                    n.log().last_index().value + 1 == p.base;
    Result<raft::log_index> got =
        ok ? n.propose(std::move(p.batch), p.count)
           : Result<raft::log_index>(raft::error(raft::errc::not_leader, "leadership changed"));
    if (!got.ok()) {
      if (!failed) {
        spdlog::warn("group {}: queued proposals from offset {} dropped: {}", opts.name, p.base,
                     got.status().message());
        // The caller was promised these offsets: tell it they are gone.
        if (l.on_truncate) l.on_truncate(p.base);
      }
      failed = true;
      continue;
    }
    KAPPA_ASSERT(got->value == p.base);
    local_bases.emplace_back(p.base, p.term);
  }
  while (!controls.empty()) {
    queued_control c = controls.front();
    controls.pop_front();
    Status s = c.change ? node->propose_config_change(*c.change)
                        : node->transfer_leadership(c.transfer_to);
    if (!s.ok())
      spdlog::warn("group {}: queued {} refused: {}", opts.name,
                   c.change ? "membership change" : "transfer", s.message());
  }
  while (!inbox.empty()) {
    raft::message m = std::move(inbox.front());
    inbox.pop_front();
    if (m.type == raft::message_type::append) drop_bad_entries(m);
    if (Status s = node->step(m); !s.ok())
      spdlog::debug("group {}: message dropped: {}", opts.name, s.message());
  }
  if (ticks > 0 && campaign_pending) {
    campaign_pending = false;
    node->campaign();
  }
  for (; ticks > 0; --ticks) node->tick();
}

void raft_group::impl::drop_bad_entries(raft::message& m) const {
  format::validation_limits limits;
  limits.max_batch_bytes = opts.log->config().max_batch_bytes;
  for (size_t k = 0; k < m.entries.size(); ++k) {
    const raft::entry& e = m.entries[k];
    const byte_view b = as_bytes(e.payload);
    auto h = format::validate_batch(b, limits, format::validation_depth::header_and_crc);
    const bool valid =
        h.ok() && h->size_bytes() == b.size() && h->base_offset == e.base_index.value &&
        h->last_offset() == e.last_index.value &&
        std::max<int32_t>(h->partition_leader_epoch, 0) == static_cast<int32_t>(e.term.value) &&
        entry_type_of(b) == e.type;
    if (!valid) {
      // A shorter append is still a valid one: the core takes commit only
      // up to what it holds, and the leader resends the rest.
      spdlog::error(
          "group {}: entry at offsets [{}, {}] from node {} is damaged ({}); dropped with what "
          "follows it",
          opts.name, e.base_index.value, e.last_index.value, m.from.value,
          h.ok() ? std::string("its header does not match the entry") : h.status().message());
      m.entries.resize(k);
      return;
    }
  }
}

bool raft_group::impl::write_ready(raft::ready& rd, bool* wrote_entries) {
  storage::log& log = *opts.log;
  if (rd.restart_log) {
    // Behind the leader's log start: drop everything, restart empty there.
    const raft::log_start& rs = *rd.restart_log;
    const int64_t old_start = log.log_start_offset();
    KAPPA_ASSERT(rs.start.value - 1 > written.hard.commit.value);
    if (Status s = log.reset(rs.start.value); !s.ok()) return fail_group(s), false;
    if (Status s = epochs->reset(rs.start.value, rs.prev_term); !s.ok())
      return fail_group(s), false;
    local_bases.clear();
    // The log no longer holds the config entry: the state file must.
    committed_conf = rs.conf;
    committed_conf_index = rs.conf_index;
    restarted = true;
    spdlog::info("group {}: behind the leader's log start; log restarted empty at offset {}",
                 opts.name, rs.start.value);
    if (l.on_truncate) l.on_truncate(std::min(old_start, rs.start.value));
  }
  if (rd.truncate_from && rd.truncate_from->value < log.log_end_offset()) {
    const int64_t t = rd.truncate_from->value;
    // Never at or below commit (raft.h invariant): neither what the state
    // file holds nor the high watermark reported.
    KAPPA_ASSERT(t > written.hard.commit.value && t >= applied_end);
    if (Status s = log.truncate_suffix(t); !s.ok()) return fail_group(s), false;
    if (Status s = epochs->truncate_from(t); !s.ok()) return fail_group(s), false;
    std::erase_if(local_bases, [t](const auto& b) { return b.first >= t; });
    spdlog::info("group {}: log truncated at offset {} to match the leader", opts.name, t);
    if (l.on_truncate) l.on_truncate(t);
  }
  format::validation_limits limits;
  limits.max_batch_bytes = log.config().max_batch_bytes;
  std::optional<int64_t> dropped_from;
  for (const raft::entry& e : rd.entries) {
    const byte_view b = as_bytes(e.payload);
    // A local proposal whose offsets now hold another entry was dropped by
    // the core (the truncation of entries that never reached the log is
    // silent there). The partition promised those offsets: tell it, before
    // the new entries are reported, so it rebuilds its producer state and
    // fails the acks still waiting for them.
    std::optional<int64_t> lost;
    while (!local_bases.empty() && local_bases.front().first < e.base_index.value) {
      if (!lost) lost = local_bases.front().first;
      local_bases.pop_front();
    }
    bool local = false;
    if (!local_bases.empty() && local_bases.front().first == e.base_index.value) {
      local = local_bases.front().second == e.term;
      if (!local && !lost) lost = local_bases.front().first;
      local_bases.pop_front();
    }
    if (lost) {
      spdlog::info("group {}: proposals from offset {} were replaced by the leader's entries",
                   opts.name, *lost);
      if (l.on_truncate) l.on_truncate(*lost);
    }
    auto h = format::validate_batch(b, limits, format::validation_depth::header_and_crc);
    const bool valid =
        h.ok() && h->size_bytes() == b.size() && h->base_offset == e.base_index.value &&
        h->last_offset() == e.last_index.value &&
        std::max<int32_t>(h->partition_leader_epoch, 0) == static_cast<int32_t>(e.term.value);
    if (!valid || e.base_index.value != log.log_end_offset()) {
      spdlog::error("group {}: entry {} not appended: {}", opts.name,
                    raft::to_string(raft::entry{e.term, e.base_index, e.last_index, e.type, {}}),
                    h.ok() ? std::string("its header does not match the entry or the log end")
                           : h.status().message());
      dropped_from = e.base_index.value;
      break;
    }
    auto r = log.append_with_offsets(b);
    if (!r.ok()) return fail_group(r.status()), false;
    if (Status s = epochs->on_append(e.term, e.base_index.value); !s.ok())
      return fail_group(s), false;
    *wrote_entries = true;
    last_entry_count = e.offset_count();
    if (!local && l.on_append) l.on_append(e.base_index.value, b);
  }
  if (dropped_from) {
    // Never acknowledge what was not written; the leader resends.
    std::erase_if(rd.messages, [&](const raft::message& m) {
      return m.type == raft::message_type::append_resp && !m.reject &&
             m.index.value >= *dropped_from;
    });
  }
  return true;
}

persisted_state raft_group::impl::state_to_write() const {
  persisted_state ps;
  ps.hard.term = node->term();
  ps.hard.vote = node->vote();
  ps.hard.commit = std::min(node->log().commit(), raft::log_index(opts.log->log_end_offset() - 1));
  ps.conf = committed_conf;
  ps.conf_index = std::min(committed_conf_index, ps.hard.commit);
  return ps;
}

void raft_group::impl::handle_ready() {
  auto rd = std::make_shared<raft::ready>(node->get_ready());
  in_flight = true;  // from here to advance, callbacks' proposals queue
  bool wrote = false;
  if (!write_ready(*rd, &wrote)) return;
  // A restarted log's commit and membership live only in the state file.
  const bool term_vote =
      restarted ||
      (rd->hard && (rd->hard->term != written.hard.term || rd->hard->vote != written.hard.vote));
  restarted = false;
  const int64_t now = opts.env->now_ms();
  persisted_state ps = state_to_write();
  const bool write_state =
      term_vote || (ps != written && now - last_state_write_ms >= kCommitWriteIntervalMs);
  // term/vote must be durable before any message that depends on them, and
  // so must the entries they vouch for.
  const bool fsync = (opts.durable && wrote) || term_vote;
  if (!fsync && !write_state) {
    finish_ready(std::move(*rd), Status());
    return;
  }
  auto self = owner.lock();
  flusher([this, self, rd, ps, fsync, write_state] {
    Status st;
    if (fsync) st = opts.log->flush();
    if (st.ok() && write_state) st = write_persisted_state(*opts.env, opts.state_path, ps);
    post([this, rd, ps, write_state, st] {
      if (st.ok() && write_state) {
        written = ps;
        last_state_write_ms = opts.env->now_ms();
      }
      finish_ready(std::move(*rd), st);
      process();
    });
  });
}

void raft_group::impl::finish_ready(raft::ready rd, Status st) {
  // in_flight stays set until advance: a proposal made from a callback
  // below must queue, not reach the node between get_ready and advance.
  if (stopped) {
    in_flight = false;
    if (!final_written) final_write();
    return;
  }
  if (!st.ok()) {
    in_flight = false;
    return fail_group(st);
  }
  for (raft::message& m : rd.messages) net.send(opts.name, std::move(m));
  if (!rd.entries.empty() && l.on_persisted) {
    l.on_persisted(opts.durable ? opts.log->durable_end_offset() : opts.log->log_end_offset());
  }
  for (const raft::entry& e : rd.committed_entries) {
    if (l.on_apply) l.on_apply(e);
    if (e.type == raft::entry_type::config) {
      raft::config c;
      if (codec->read_config(e.payload, &c)) {
        committed_conf = std::move(c);
        committed_conf_index = e.last_index;
      }
    }
    applied_end = std::max(applied_end, e.last_index.value + 1);
  }
  bool hw_moved = !rd.committed_entries.empty();
  if (rd.restart_log && rd.restart_log->start.value > applied_end) {
    applied_end = rd.restart_log->start.value;  // the leader committed everything below its start
    hw_moved = true;
  }
  node->advance(rd);
  in_flight = false;
  if (hw_moved && l.on_commit) l.on_commit(applied_end);
}

void raft_group::impl::maybe_write_state_lazily() {
  const int64_t now = opts.env->now_ms();
  if (now - last_state_write_ms < kCommitWriteIntervalMs) return;
  persisted_state ps = state_to_write();
  if (ps == written) return;
  in_flight = true;
  auto self = owner.lock();
  flusher([this, self, ps] {
    Status st = write_persisted_state(*opts.env, opts.state_path, ps);
    post([this, ps, st] {
      in_flight = false;
      if (stopped) {
        if (!final_written) final_write();
        return;
      }
      if (!st.ok()) return fail_group(st);
      written = ps;
      last_state_write_ms = opts.env->now_ms();
      process();
    });
  });
}

void raft_group::impl::publish_status() {
  group_status s;
  s.leader = node->leader();
  s.term = node->term();
  s.role = node->role();
  s.high_watermark = applied_end;
  s.log_end_offset = opts.log->log_end_offset();
  s.membership = node->membership();
  if (s.role == raft::role::leader) {
    const int64_t last = node->log().last_index().value;
    for (const auto& [id, pr] : node->progresses()) {
      // Within one batch of the log end: the last entry may be in flight.
      if (pr.match.value + last_entry_count >= last) s.in_sync.push_back(id);
    }
  }
  if (recovering && s.log_end_offset - 1 >= no_vote_until) {
    recovering = false;
    spdlog::info("group {}: log caught up to offset {}; recovery done", opts.name, no_vote_until);
  }
  s.recovering = recovering;
  {
    std::lock_guard lk(mu);
    status = s;
  }
  const raft::soft_state soft{s.leader, s.role};
  if (soft != last_soft || s.term != last_term) {
    last_soft = soft;
    last_term = s.term;
    if (l.on_role) l.on_role(s);
  }
}

void raft_group::impl::fail_group(const Status& why) {
  spdlog::error("group {}: stopping after a storage failure: {}", opts.name, why.message());
  stopped = true;
  final_written = true;  // the log cannot be trusted: keep the last good state file
  std::lock_guard lk(done_mu);
  done = true;
  done_cv.notify_all();
}

void raft_group::impl::final_write() {
  final_written = true;
  if (opts.log->status().ok()) {
    Status s = opts.log->flush();
    if (s.ok()) s = write_persisted_state(*opts.env, opts.state_path, state_to_write());
    if (!s.ok()) spdlog::error("group {}: final state write failed: {}", opts.name, s.message());
  }
  std::lock_guard lk(done_mu);
  done = true;
  done_cv.notify_all();
}

}  // namespace kappa::replication
