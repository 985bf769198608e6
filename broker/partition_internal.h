// Private to broker/partition*.cc: the strand-only state of a partition and
// its pending acknowledgements. Pulls in Asio (through runtime.h).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "broker/partition.h"
#include "broker/producer_state.h"
#include "broker/runtime.h"

namespace kappa::broker {

using ack_clock = std::chrono::steady_clock;

struct partition::strand_holder {
  explicit strand_holder(runtime& rt) : strand(asio::make_strand(rt.workers.get_executor())) {}
  strand_t strand;
};

// A produce request waiting for its acks: local persistence (acks=1) or
// commit (acks=all) of everything up to last_offset.
struct partition::pending_ack {
  int64_t last_offset = 0;
  // The leader term in which the batch was appended (or found, for a retry).
  // The ack succeeds only if this replica still leads in that term when the
  // offset is committed (persisted, for acks=1): a leader never overwrites
  // its own log within a term, so the entry at last_offset is still ours. A
  // replica that lost the lead may see the same offsets committed with the
  // new leader's data (its own proposals may never have reached its log).
  uint64_t term = 0;
  int64_t timeout_ms = 0;
  ack_clock::time_point deadline;
  produce_result result;
  produce_callback done;
};

struct partition::strand_state {
  // Includes the batches proposed and not yet committed: a retry of one of
  // them is a duplicate, not a gap.
  producer_state producers;
  // Keyed by a sequence number given in proposal order, hence in offset
  // order: completion pops from the front, truncation from the back.
  std::map<uint64_t, pending_ack> awaiting_persist;  // acks=1
  std::map<uint64_t, pending_ack> awaiting_commit;   // acks=all
  std::set<std::pair<ack_clock::time_point, uint64_t>> deadlines;
  uint64_t next_ack = 1;
  int64_t persisted_end = 0;  // offsets below it are persisted here

  size_t pending() const { return awaiting_persist.size() + awaiting_commit.size(); }
};

}  // namespace kappa::broker
