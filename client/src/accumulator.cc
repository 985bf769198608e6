#include "client/src/accumulator.h"

#include <algorithm>
#include <climits>

#include "client/src/murmur2.h"
#include "proto/format/assert.h"

namespace kappa::client {

size_t estimate_record_bytes(const format::record& record) {
  // Per record: length, attributes, timestamp and offset deltas, key and
  // value lengths, header count: at most 21 bytes of varints in practice.
  size_t bytes = 21;
  if (record.key) bytes += record.key->size();
  if (record.value) bytes += record.value->size();
  for (const auto& h : record.headers) bytes += 10 + h.key.size() + (h.value ? h.value->size() : 0);
  return bytes;
}

accumulator::accumulator(const accumulator_options& options) : options_(options), rng_(options.seed) {
  KAPPA_ASSERT(options_.max_in_flight_per_partition >= 1 && options_.max_in_flight_per_partition <= 5);
}

void accumulator::seal(partition_state& s) {
  if (s.open) s.sealed.push_back(std::move(s.open));
}

int32_t accumulator::pick_sticky(const std::string& topic, int32_t partition_count, size_t bytes) {
  sticky_state& sticky = sticky_[topic];
  if (sticky.partition >= 0 && sticky.partition < partition_count) {
    partition_state& s = state({topic, sticky.partition});
    if (s.open && s.open->id == sticky.batch_id) {
      if (s.open->size_bytes + bytes <= options_.batch_bytes) return sticky.partition;
      // The record would start a new batch: that is the moment to switch
      // (KIP-480), so seal this one and move on.
      seal(s);
    }
  }
  int32_t next = static_cast<int32_t>(rng_() % static_cast<uint64_t>(partition_count));
  if (partition_count > 1 && next == sticky.partition) {
    next = (next + 1 + static_cast<int32_t>(rng_() % static_cast<uint64_t>(partition_count - 1))) %
           partition_count;
  }
  sticky.partition = next;
  sticky.batch_id = 0;
  return next;
}

int32_t accumulator::append(const std::string& topic, std::optional<int32_t> partition,
                            int32_t partition_count, format::record record, size_t bytes,
                            delivery_callback callback, int64_t now_ms, int64_t deadline_ms,
                            bool* plan_changed) {
  KAPPA_ASSERT(partition_count > 0);
  KAPPA_ASSERT(!partition || (*partition >= 0 && *partition < partition_count));
  const bool sticky = !partition && !record.key;
  int32_t p = partition ? *partition
              : record.key ? key_partition(*record.key, partition_count)
                           : pick_sticky(topic, partition_count, bytes);
  partition_state& s = state({topic, p});
  const size_t sealed_before = s.sealed.size();
  const bool had_open = s.open != nullptr;
  if (s.open && !s.open->records.empty() && s.open->size_bytes + bytes > options_.batch_bytes) seal(s);
  if (!s.open) {
    s.open = std::make_unique<producer_batch>();
    s.open->tp = {topic, p};
    s.open->id = next_batch_id_++;
    s.open->created_ms = now_ms;
    s.open->deadline_ms = deadline_ms;
  }
  producer_batch& b = *s.open;
  b.records.push_back(std::move(record));
  b.callbacks.push_back(std::move(callback));
  b.size_bytes += bytes;
  b.deadline_ms = std::min(b.deadline_ms, deadline_ms);
  buffer_used_ += bytes;
  if (sticky) sticky_[topic].batch_id = b.id;
  if (b.size_bytes >= options_.batch_bytes) seal(s);
  if (plan_changed != nullptr) *plan_changed = !had_open || s.sealed.size() != sealed_before || !s.open;
  return p;
}

std::vector<std::unique_ptr<producer_batch>> accumulator::drain(
    int64_t now_ms, bool flush_all, const std::function<bool(const topic_partition&)>& sendable,
    int64_t producer_id, bool fresh_allowed) {
  std::vector<std::unique_ptr<producer_batch>> out;
  for (auto& [tp, s] : partitions_) {
    if (s.open && (flush_all || now_ms - s.open->created_ms >= options_.linger_ms)) seal(s);
    if (s.sealed.empty() || now_ms < s.backoff_until_ms || !sendable(tp)) continue;
    while (!s.sealed.empty() && s.in_flight < options_.max_in_flight_per_partition) {
      const bool is_retry = s.sealed.front()->attempts > 0;
      // A retried batch goes alone, so nothing newer can land before it.
      if (is_retry && s.in_flight > 0) break;
      if (!fresh_allowed && s.sealed.front()->base_sequence < 0) break;
      std::unique_ptr<producer_batch> b = std::move(s.sealed.front());
      s.sealed.pop_front();
      if (producer_id >= 0 && b->base_sequence < 0) {
        b->base_sequence = s.next_sequence;
        // Sequences wrap at INT32_MAX as Kafka's do.
        const int64_t next = int64_t{s.next_sequence} + static_cast<int64_t>(b->records.size());
        s.next_sequence = static_cast<int32_t>(next > INT32_MAX ? next - INT32_MAX - 1 : next);
      }
      ++s.in_flight;
      out.push_back(std::move(b));
      if (is_retry) break;
    }
  }
  return out;
}

int64_t accumulator::next_ready_ms() const {
  int64_t next = INT64_MAX;
  for (const auto& [tp, s] : partitions_) {
    if (s.open) next = std::min(next, s.open->created_ms + options_.linger_ms);
    if (!s.sealed.empty()) next = std::min(next, s.backoff_until_ms);
  }
  return next;
}

void accumulator::complete(const producer_batch& batch, bool acknowledged) {
  partition_state& s = state(batch.tp);
  KAPPA_ASSERT(s.in_flight > 0);
  KAPPA_ASSERT(buffer_used_ >= batch.size_bytes);
  --s.in_flight;
  buffer_used_ -= batch.size_bytes;
  // A batch failed for good leaves a gap the broker will see; moving the
  // acknowledged mark past it makes the next OUT_OF_ORDER_SEQUENCE_NUMBER
  // final instead of retried forever; the epoch bump then closes the gap.
  if (batch.base_sequence >= 0) {
    if (!acknowledged) sequence_broken_ = true;
    s.acked_sequence = std::max(s.acked_sequence,
                                batch.base_sequence + static_cast<int32_t>(batch.records.size()));
  }
}

void accumulator::retry(std::unique_ptr<producer_batch> batch, int64_t retry_at_ms) {
  partition_state& s = state(batch->tp);
  KAPPA_ASSERT(s.in_flight > 0);
  --s.in_flight;
  s.backoff_until_ms = std::max(s.backoff_until_ms, retry_at_ms);
  auto pos = s.sealed.begin();
  // By batch id (send order within a partition), not by sequence: without
  // idempotence every sequence is -1, and several batches re-queued after a
  // broken stream must still go out in the order they were sent.
  while (pos != s.sealed.end() && (*pos)->id < batch->id) ++pos;
  s.sealed.insert(pos, std::move(batch));
}

bool accumulator::earlier_batch_pending(const producer_batch& batch) const {
  auto it = partitions_.find(batch.tp);
  if (it == partitions_.end() || batch.base_sequence < 0) return false;
  return it->second.acked_sequence < batch.base_sequence;
}

std::vector<std::unique_ptr<producer_batch>> accumulator::take_if(
    const std::function<bool(const producer_batch&)>& predicate) {
  std::vector<std::unique_ptr<producer_batch>> out;
  for (auto& [tp, s] : partitions_) {
    if (s.open && predicate(*s.open)) seal(s);
    for (auto it = s.sealed.begin(); it != s.sealed.end();) {
      if (!predicate(**it)) {
        ++it;
        continue;
      }
      producer_batch& b = **it;
      buffer_used_ -= b.size_bytes;
      if (b.base_sequence >= 0) {
        sequence_broken_ = true;
        s.acked_sequence = std::max(s.acked_sequence, b.base_sequence + static_cast<int32_t>(b.records.size()));
      }
      out.push_back(std::move(*it));
      it = s.sealed.erase(it);
    }
  }
  return out;
}

bool accumulator::has_sequenced_queued() const {
  for (const auto& [tp, s] : partitions_) {
    for (const auto& b : s.sealed) {
      if (b->base_sequence >= 0) return true;
    }
  }
  return false;
}

void accumulator::reset_sequences() {
  for (auto& [tp, s] : partitions_) {
    KAPPA_ASSERT(s.in_flight == 0);
    s.next_sequence = 0;
    s.acked_sequence = 0;
  }
  sequence_broken_ = false;
}

int accumulator::in_flight(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? 0 : it->second.in_flight;
}

size_t accumulator::queued_batches() const {
  size_t n = 0;
  for (const auto& [tp, s] : partitions_) n += s.sealed.size() + (s.open ? 1 : 0);
  return n;
}

}  // namespace kappa::client
