#include "replication/group/batch_entry_codec.h"

#include "proto/format/batch_validator.h"
#include "proto/format/endian.h"
#include "proto/format/records.h"

namespace kappa::replication {

namespace {

// The value of the one record of a control batch of `type`, if it is one.
std::optional<std::string> control_value(byte_view batch, int16_t type) {
  if (control_type(batch) != type) return std::nullopt;
  byte_buffer scratch;
  auto recs = format::decode_records(batch, scratch);
  if (!recs.ok() || recs->size() != 1 || !(*recs)[0].value) return std::nullopt;
  return std::string(as_chars(*(*recs)[0].value));
}

}  // namespace

std::optional<int16_t> control_type(byte_view batch) {
  if (batch.size() < format::kBatchHeaderBytes) return std::nullopt;
  auto h = format::read_header(batch);
  if (!h.is_control() || h.record_count < 1 || h.size_bytes() > batch.size()) return std::nullopt;
  byte_buffer scratch;
  auto recs = format::decode_records(batch.first(h.size_bytes()), scratch);
  if (!recs.ok() || recs->empty() || !(*recs)[0].key || (*recs)[0].key->size() < 4)
    return std::nullopt;
  return format::load_be<int16_t>((*recs)[0].key->data() + 2);
}

raft::entry_type entry_type_of(byte_view batch) {
  auto t = control_type(batch);
  if (t == kControlLeaderChange) return raft::entry_type::noop;
  if (t == kControlKraftVoters) return raft::entry_type::config;
  return raft::entry_type::normal;
}

std::string make_control_batch(int16_t type, std::string_view value, raft::term_id term,
                               raft::log_index index, int64_t timestamp_ms) {
  std::string key(4, '\0');
  format::store_be<int16_t>(reinterpret_cast<uint8_t*>(key.data()), 0);
  format::store_be<int16_t>(reinterpret_cast<uint8_t*>(key.data()) + 2, type);
  format::record r;
  r.key = std::move(key);
  r.value = std::string(value);
  r.timestamp = timestamp_ms;
  format::batch_options o;
  o.control = true;
  o.base_offset = index.value;
  KAPPA_ASSERT(term.value <= static_cast<uint64_t>(INT32_MAX));  // Kafka's leader epoch is an int32
  o.partition_leader_epoch = static_cast<int32_t>(term.value);
  auto b = format::build_batch(o, {r});
  KAPPA_ASSERT(b.ok());  // one small record cannot overflow anything
  return std::string(as_chars(*b));
}

std::string batch_entry_codec::noop(raft::term_id term, raft::log_index index) const {
  std::string id(8, '\0');
  format::store_be<uint64_t>(reinterpret_cast<uint8_t*>(id.data()), self_.value);
  return make_control_batch(kControlLeaderChange, id, term, index, now_ms_ ? now_ms_() : 0);
}

std::string batch_entry_codec::config_entry(const raft::config& c, raft::term_id term,
                                            raft::log_index index) const {
  return make_control_batch(kControlKraftVoters, raft::encode_config(c), term, index,
                            now_ms_ ? now_ms_() : 0);
}

bool batch_entry_codec::read_config(const std::string& payload, raft::config* out) const {
  auto v = control_value(as_bytes(payload), kControlKraftVoters);
  return v && raft::decode_config(*v, out);
}

}  // namespace kappa::replication
