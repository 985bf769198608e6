// partition: produce through Raft, the pending acknowledgements, and the
// callbacks of the partition's raft_group (commit, persistence, role,
// replicated appends, truncation).
#include <spdlog/spdlog.h>

#include "broker/errc.h"
#include "broker/metrics.h"
#include "broker/partition_internal.h"
#include "proto/format/batch_validator.h"
#include "proto/format/errc.h"
#include "proto/format/record_batch.h"
#include "replication/raft/errc.h"

namespace kappa::broker {

replication::raft_group::listener partition::make_listener() {
  // Weak: the group (owned by the partition) holds these callbacks.
  std::weak_ptr<partition> weak = weak_from_this();
  replication::raft_group::listener l;
  l.on_commit = [weak](int64_t hw) {
    if (auto self = weak.lock()) self->on_commit(hw);
  };
  l.on_persisted = [weak](int64_t end) {
    if (auto self = weak.lock()) self->on_persisted(end);
  };
  l.on_role = [weak](const replication::group_status& st) {
    if (auto self = weak.lock()) self->on_role(st);
  };
  l.on_append = [weak](int64_t base_offset, byte_view batches) {
    if (auto self = weak.lock()) self->on_append(base_offset, batches);
  };
  l.on_truncate = [weak](int64_t from) {
    if (auto self = weak.lock()) self->on_truncate(from);
  };
  return l;
}

void partition::produce(std::string records, acks_mode acks, int64_t timeout_ms,
                        produce_callback done) {
  asio::post(strand_->strand, [self = shared_from_this(), records = std::move(records), acks,
                               timeout_ms, done = std::move(done)]() mutable {
    self->produce_on_strand(records, acks, timeout_ms, done);
  });
}

namespace {

// A proposal's failure as the API reports it.
Status proposal_error(const Status& st, const Status& not_leader) {
  if (st.code() == raft::errc::not_leader) return not_leader;
  if (st.code() == raft::errc::transfer_in_progress) {
    return error(errc::leader_not_available, "leadership is being transferred; retry");
  }
  if (st.code().category() == raft::error_category()) {
    return error(errc::leader_not_available, st.message());  // e.g. a leader not ready yet
  }
  return st;  // storage errors: api_error_code() maps them
}

}  // namespace

void partition::produce_on_strand(std::string& records, acks_mode acks, int64_t timeout_ms,
                                  produce_callback& done) {
  const storage::log_config cfg = config();
  auto fail = [&](Status st) { done(produce_result{std::move(st), -1, log_->log_start_offset()}); };
  if (retired_) return done(produce_result{gone(), -1, -1});
  if (!group_->is_leader()) return fail(not_leader());
  if (Status st = log_->status(); !st.ok()) return fail(error(errc::storage_error, st.message()));

  format::validation_limits limits;
  limits.max_batch_bytes = cfg.max_batch_bytes;
  auto headers =
      format::validate_batches(as_bytes(records), limits, format::validation_depth::records);
  if (!headers.ok()) {
    const bool too_large = headers.status().code() == format::errc::batch_too_large;
    return fail(error(too_large ? errc::message_too_large : errc::corrupt_message,
                      headers.status().message()));
  }
  if (headers->empty()) return fail(error(errc::corrupt_message, "no record batch in the request"));
  for (const format::batch_header& h : *headers) {
    // The Raft log reads control batches as its own no-op and membership
    // entries: a producer's would be taken for one.
    if (h.is_control()) {
      return fail(error(errc::corrupt_message,
                        "control batches are written by the broker, not by producers"));
    }
  }

  int64_t base = -1;
  int64_t last = -1;
  size_t pos = 0;
  for (format::batch_header h : *headers) {
    const size_t n = h.size_bytes();
    const size_t at = pos;
    pos += n;
    sequence_check c = s_->producers.check(h);
    if (c.what == sequence_check::kind::reject) return fail(c.error);
    if (c.what == sequence_check::kind::duplicate) {
      // A retry of a stored (perhaps not yet committed) batch: answer with
      // where it went, once it is acknowledged as the request asks.
      if (base < 0) base = c.original.base_offset;
      last = std::max(last, c.original.last_offset);
      continue;
    }
    auto r = group_->propose(records.substr(at, n), int64_t(h.last_offset_delta) + 1);
    if (!r.ok()) {
      if (r.status().code() != raft::errc::not_leader) {
        spdlog::error("{}: append failed: {}", id_.dir_name(), r.status().message());
      }
      // Batches proposed before this one stay: a retry dedups them.
      return fail(proposal_error(r.status(), not_leader()));
    }
    h.base_offset = r->base_offset;
    s_->producers.observe(h);
    metrics_.bytes_in(n);
    if (base < 0) base = r->base_offset;
    last = r->last_offset;
  }

  produce_result result{Status(), base, log_->log_start_offset()};
  if (acks == acks_mode::none) return done(std::move(result));
  park_ack(acks, last, timeout_ms, std::move(result), std::move(done));
}

void partition::park_ack(acks_mode acks, int64_t last_offset, int64_t timeout_ms,
                         produce_result result, produce_callback done) {
  const int64_t hw = high_watermark();
  // Committed implies persisted by a majority, which is at least as strong
  // as the leader's own persistence.
  const int64_t ready = acks == acks_mode::leader ? std::max(hw, s_->persisted_end) : hw;
  if (last_offset < ready) return done(std::move(result));
  if (s_->pending() >= kPendingAcksMax) {
    // The data is proposed: the client must not assume it lost; it retries
    // and the producer state dedups.
    return done(produce_result{
        error(errc::request_timed_out,
              "too many appends awaiting acknowledgement; retry with the same producer "
              "id/sequence"),
        -1, result.log_start_offset});
  }
  if (timeout_ms <= 0) timeout_ms = kProduceTimeoutMsDefault;
  const uint64_t id = s_->next_ack++;
  pending_ack p{last_offset, group_->term().value, timeout_ms,
                ack_clock::now() + std::chrono::milliseconds(timeout_ms), std::move(result), std::move(done)};
  s_->deadlines.emplace(p.deadline, id);
  auto& waiting = acks == acks_mode::leader ? s_->awaiting_persist : s_->awaiting_commit;
  waiting.emplace(id, std::move(p));
  pending_count_.store(s_->pending(), std::memory_order_relaxed);
}

namespace {

// Completes the acks at the front of `waiting` whose last offset is below
// `end`: successfully if this replica still leads in the term the batch was
// appended in (`leader_term`, 0 when it does not lead), else with `lost`.
void complete_below(std::map<uint64_t, partition::pending_ack>& waiting,
                    std::set<std::pair<ack_clock::time_point, uint64_t>>& deadlines, int64_t end,
                    uint64_t leader_term, const Status& lost) {
  while (!waiting.empty() && waiting.begin()->second.last_offset < end) {
    auto node = waiting.extract(waiting.begin());
    deadlines.erase({node.mapped().deadline, node.key()});
    if (node.mapped().term == leader_term) {
      node.mapped().done(std::move(node.mapped().result));
    } else {
      node.mapped().done(produce_result{lost, -1, -1});
    }
  }
}

}  // namespace

void partition::on_commit(int64_t hw) {
  if (retired_) return;
  advance_high_watermark(hw);
  const uint64_t term = group_->is_leader() ? group_->term().value : 0;
  complete_below(s_->awaiting_commit, s_->deadlines, hw, term, not_leader());
  complete_below(s_->awaiting_persist, s_->deadlines, hw, term, not_leader());
  pending_count_.store(s_->pending(), std::memory_order_relaxed);
}

void partition::on_persisted(int64_t persisted_end) {
  if (retired_) return;
  s_->persisted_end = std::max(s_->persisted_end, persisted_end);
  const uint64_t term = group_->is_leader() ? group_->term().value : 0;
  complete_below(s_->awaiting_persist, s_->deadlines, s_->persisted_end, term, not_leader());
  pending_count_.store(s_->pending(), std::memory_order_relaxed);
}

void partition::expire_acks() {
  const auto now = ack_clock::now();
  while (!s_->deadlines.empty() && s_->deadlines.begin()->first <= now) {
    const uint64_t id = s_->deadlines.begin()->second;
    s_->deadlines.erase(s_->deadlines.begin());
    for (auto* waiting : {&s_->awaiting_commit, &s_->awaiting_persist}) {
      auto it = waiting->find(id);
      if (it == waiting->end()) continue;
      pending_ack p = std::move(it->second);
      waiting->erase(it);
      const bool commit = waiting == &s_->awaiting_commit;
      const std::string ms = std::to_string(p.timeout_ms);
      Status st = commit ? error(errc::not_enough_replicas,
                                 "not acknowledged by a majority within " + ms +
                                     " ms; it may still be committed: retry with the same "
                                     "producer id/sequence")
                         : error(errc::request_timed_out,
                                 "not persisted by the leader within " + ms +
                                     " ms; it may still be committed: retry with the same "
                                     "producer id/sequence");
      p.done(produce_result{std::move(st), -1, log_->log_start_offset()});
      break;
    }
  }
  pending_count_.store(s_->pending(), std::memory_order_relaxed);
}

void partition::fail_all_pending(const Status& st) {
  for (auto* waiting : {&s_->awaiting_commit, &s_->awaiting_persist}) {
    for (auto& [_, p] : *waiting) p.done(produce_result{st, -1, -1});
    waiting->clear();
  }
  s_->deadlines.clear();
  pending_count_.store(0, std::memory_order_relaxed);
}

void partition::on_role(const replication::group_status& st) {
  const bool was_leader = is_leader_.load();
  const bool leads = st.role == raft::role::leader;
  leader_id_.store(st.leader == raft::no_node ? -1 : int32_t(st.leader.value),
                   std::memory_order_release);
  leader_epoch_.store(st.term.value > 0 ? int32_t(st.term.value) : -1, std::memory_order_release);
  is_leader_.store(leads, std::memory_order_release);
  if (leads && !was_leader) {
    metrics_.leader_elected();
    spdlog::info("{}: leader at epoch {}", id_.dir_name(), st.term.value);
  } else if (!leads && was_leader) {
    spdlog::info("{}: no longer leader (epoch {}, leader {})", id_.dir_name(), st.term.value,
                 st.leader.value);
  }
  // Readers parked here re-check leadership (a FetchStream on a replica
  // that lost it answers NOT_LEADER_OR_FOLLOWER instead of idling).
  wake_all();
}

void partition::on_append(int64_t base_offset, byte_view batches) {
  if (retired_) return;
  // Batches from the leader already carry their offsets: the producer state
  // follows the leader's, so a new leader dedups its predecessor's batches.
  byte_view b = batches;
  while (b.size() >= format::kBatchHeaderBytes) {
    const format::batch_header h = format::read_header(b);
    if (h.size_bytes() > b.size()) break;
    s_->producers.observe(h);
    b = b.subspan(h.size_bytes());
  }
  (void)base_offset;
}

void partition::on_truncate(int64_t from) {
  if (retired_) return;
  // Acks for offsets that are gone can never come: the new leader has
  // other data there.
  const Status lost = not_leader();
  for (auto* waiting : {&s_->awaiting_commit, &s_->awaiting_persist}) {
    while (!waiting->empty() && waiting->rbegin()->second.last_offset >= from) {
      auto node = waiting->extract(std::prev(waiting->end()));
      s_->deadlines.erase({node.mapped().deadline, node.key()});
      node.mapped().done(produce_result{lost, -1, -1});
    }
  }
  pending_count_.store(s_->pending(), std::memory_order_relaxed);
  s_->persisted_end = std::min(s_->persisted_end, from);
  // The producer state may remember truncated batches: rebuild it as at
  // open (snapshot, when it does not reach past the new end, plus replay).
  if (Status st = load_producer_state(); !st.ok()) {
    spdlog::error("{}: rebuilding producer state after truncation to {}: {}", id_.dir_name(), from,
                  st.message());
  }
}

void partition::advance_high_watermark(int64_t hw) {
  // Monotonic: Raft never truncates below commit.
  int64_t cur = high_watermark_.load();
  if (hw <= cur) return;
  high_watermark_.store(hw, std::memory_order_release);
  wake_all();
}

}  // namespace kappa::broker
