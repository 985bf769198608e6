// replication::batch_entry_codec — the raft::entry_codec that makes the
// core's own entries Kafka control batches, so the Raft log is the partition
// log byte for byte (raft_group.h "Mapping").
//
// A control batch here: attributes with the control bit, producer fields -1,
// baseOffset = the entry's index, partitionLeaderEpoch = its term, one
// record whose key is version:int16(=0) type:int16 and whose value is
//   type 2 (LEADER_CHANGE): the leader's node id, int64 big-endian;
//   type 6 (KRAFT_VOTERS):  raft::encode_config(config).
// Consumers skip control batches, as Kafka's do.
//
// Thread safety: immutable after construction; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "proto/format/bytes.h"
#include "replication/raft/entry_codec.h"
#include "replication/raft/types.h"

namespace kappa::replication {

inline constexpr int16_t kControlLeaderChange = 2;
inline constexpr int16_t kControlKraftVoters = 6;

// The control record type of a control batch, nullopt for a data batch or
// bytes that are not a control batch with a readable key.
std::optional<int16_t> control_type(byte_view batch);
// The Raft entry type of a batch: LEADER_CHANGE -> noop, KRAFT_VOTERS ->
// config, anything else (data, transaction markers) -> normal.
raft::entry_type entry_type_of(byte_view batch);

// One control batch of one record (see above), CRC computed.
std::string make_control_batch(int16_t type, std::string_view value, raft::term_id term,
                               raft::log_index index, int64_t timestamp_ms);

class batch_entry_codec final : public raft::entry_codec {
 public:
  // `self` is the leader named in the no-ops this node appends; now_ms
  // stamps the control records.
  batch_entry_codec(raft::node_id self, std::function<int64_t()> now_ms)
      : self_(self), now_ms_(std::move(now_ms)) {}

  std::string noop(raft::term_id term, raft::log_index index) const override;
  std::string config_entry(const raft::config& c, raft::term_id term,
                           raft::log_index index) const override;
  bool read_config(const std::string& payload, raft::config* out) const override;

 private:
  raft::node_id self_;
  std::function<int64_t()> now_ms_;
};

}  // namespace kappa::replication
