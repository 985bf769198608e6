#include "broker/producer_state.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <string>

#include "broker/errc.h"
#include "broker/wire.h"
#include "proto/format/assert.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {
namespace {

constexpr int64_t kSeqModulo = int64_t{std::numeric_limits<int32_t>::max()} + 1;

bool idempotent(const format::batch_header& h) {
  return h.producer_id >= 0 && h.base_sequence >= 0;
}

int32_t next_sequence(int32_t seq) { return int32_t((int64_t{seq} + 1) % kSeqModulo); }

}  // namespace

int32_t last_sequence(int32_t base_sequence, int32_t last_offset_delta) {
  return int32_t((int64_t{base_sequence} + last_offset_delta) % kSeqModulo);
}

sequence_check producer_state::check(const format::batch_header& h) const {
  sequence_check out;
  if (!idempotent(h)) return out;
  auto it = producers_.find(h.producer_id);
  if (it == producers_.end()) return out;
  const producer_entry& e = it->second;
  const std::string who = "producer " + std::to_string(h.producer_id);
  if (h.producer_epoch < e.epoch) {
    out.what = sequence_check::kind::reject;
    out.error = error(errc::invalid_producer_epoch,
                      who + " epoch " + std::to_string(h.producer_epoch) +
                          " is fenced by epoch " + std::to_string(e.epoch));
    return out;
  }
  if (h.producer_epoch > e.epoch) {
    if (h.base_sequence != 0) {
      out.what = sequence_check::kind::reject;
      out.error = error(errc::out_of_order_sequence,
                        who + " new epoch " + std::to_string(h.producer_epoch) +
                            " must start at sequence 0, got " + std::to_string(h.base_sequence));
    }
    return out;
  }
  const int32_t last = last_sequence(h.base_sequence, h.last_offset_delta);
  for (const producer_batch& b : e.batches) {
    if (b.first_seq == h.base_sequence && b.last_seq == last) {
      out.what = sequence_check::kind::duplicate;
      out.original = b;
      return out;
    }
  }
  if (e.batches.empty()) return out;
  const int32_t expected = next_sequence(e.batches.back().last_seq);
  if (h.base_sequence != expected) {
    out.what = sequence_check::kind::reject;
    out.error = error(errc::out_of_order_sequence,
                      who + " epoch " + std::to_string(h.producer_epoch) + ": expected sequence " +
                          std::to_string(expected) + ", got " + std::to_string(h.base_sequence));
  }
  return out;
}

void producer_state::observe(const format::batch_header& h) {
  if (!idempotent(h)) return;
  auto it = producers_.find(h.producer_id);
  if (it == producers_.end()) {
    if (producers_.size() >= kProducersMax) evict_one();
    it = producers_.emplace(h.producer_id, producer_entry{h.producer_epoch, {}}).first;
  }
  producer_entry& e = it->second;
  if (h.producer_epoch > e.epoch) {
    e.epoch = h.producer_epoch;
    e.batches.clear();
  } else if (h.producer_epoch < e.epoch) {
    return;  // replaying a fenced batch from the log: it cannot matter any more
  }
  e.batches.push_back({h.base_sequence, last_sequence(h.base_sequence, h.last_offset_delta),
                       h.base_offset, h.last_offset()});
  while (e.batches.size() > kBatchesPerProducer) e.batches.pop_front();
}

void producer_state::evict_one() {
  // The producer whose last write is oldest. Linear, but only when the table
  // is full, and bounded by kProducersMax.
  auto victim = producers_.end();
  int64_t oldest = INT64_MAX;
  for (auto it = producers_.begin(); it != producers_.end(); ++it) {
    int64_t last = it->second.batches.empty() ? -1 : it->second.batches.back().last_offset;
    if (last < oldest) {
      oldest = last;
      victim = it;
    }
  }
  if (victim != producers_.end()) producers_.erase(victim);
}

byte_buffer producer_state::encode(int64_t log_offset) const {
  wire_writer w;
  w.u64(uint64_t(log_offset));
  w.u32(uint32_t(producers_.size()));
  for (const auto& [pid, e] : producers_) {
    w.u64(uint64_t(pid));
    w.u16(uint16_t(e.epoch));
    w.u8(uint8_t(e.batches.size()));
    for (const auto& b : e.batches) {
      w.u32(uint32_t(b.first_seq));
      w.u32(uint32_t(b.last_seq));
      w.u64(uint64_t(b.base_offset));
      w.u64(uint64_t(b.last_offset));
    }
  }
  return w.take();
}

Result<int64_t> producer_state::decode(byte_view snapshot) {
  auto bad = [](const std::string& why) {
    return storage::error(storage::errc::bad_checkpoint, "producer state snapshot: " + why);
  };
  wire_reader r(snapshot);
  const int64_t offset = int64_t(r.u64());
  const uint32_t n = r.u32();
  if (!r.ok() || offset < 0 || n > kProducersMax) return bad("bad header");
  std::map<int64_t, producer_entry> next;
  for (uint32_t i = 0; i < n; ++i) {
    const int64_t pid = int64_t(r.u64());
    producer_entry e;
    e.epoch = int16_t(r.u16());
    const uint8_t nb = r.u8();
    if (!r.ok() || pid < 0 || nb > kBatchesPerProducer) return bad("bad producer entry");
    for (uint8_t j = 0; j < nb; ++j) {
      producer_batch b;
      b.first_seq = int32_t(r.u32());
      b.last_seq = int32_t(r.u32());
      b.base_offset = int64_t(r.u64());
      b.last_offset = int64_t(r.u64());
      e.batches.push_back(b);
    }
    if (!r.ok()) return bad("truncated");
    next.emplace(pid, std::move(e));
  }
  if (!r.at_end()) return bad("trailing bytes");
  producers_ = std::move(next);
  return offset;
}

Status rebuild_producer_state(storage::env& e, const storage::log& log,
                              const std::string& snapshot_path, const std::string& name,
                              producer_state* out) {
  *out = producer_state();
  int64_t from = log.log_start_offset();
  auto snap = storage::read_metadata_file(e, snapshot_path);
  if (snap.ok()) {
    auto covered = out->decode(snap->payload);
    if (covered.ok() && *covered <= log.log_end_offset()) {
      from = std::max(from, *covered);
    } else {
      spdlog::info("{}: not using the producer state snapshot ({}); rebuilding from the log", name,
                   covered.ok() ? "past the log end" : covered.status().message());
      *out = producer_state();
    }
  } else if (snap.status().code() != storage::errc::not_found) {
    spdlog::warn("{}: {}; rebuilding producer state from the log", name, snap.status().message());
  }
  const int64_t end = log.log_end_offset();
  int64_t replayed = 0;
  while (from < end) {
    KAPPA_ASSIGN_OR_RETURN(auto view, log.read(from, size_t{4} << 20));
    if (view.batches.empty()) break;
    byte_view b = view.batches;
    while (b.size() >= format::kBatchHeaderBytes) {
      const format::batch_header h = format::read_header(b);
      if (h.size_bytes() > b.size()) break;
      out->observe(h);
      ++replayed;
      b = b.subspan(h.size_bytes());
    }
    KAPPA_ASSERT(view.next_offset > from);
    from = view.next_offset;
  }
  if (replayed > 0) spdlog::debug("{}: producer state rebuilt from {} batches", name, replayed);
  return Status();
}

}  // namespace kappa::broker
