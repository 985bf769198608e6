// group_codec: the bytes of __consumer_offsets records (see
// proto/kappa/internal/v1/group_records.proto) to and from group_state.
// Internal to broker/group/group_*.cc.
//
// Writers emit a group's whole metadata (GroupMetadataValue) or one offset
// (OffsetCommitValue), or a tombstone for either; apply_record() is the one
// reader, used by group_shard::replay(). A group's metadata record replaces
// its membership and assignment but not its offsets (separate keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/group/group_state.h"

namespace kappa::broker::group {

void emit_group(const group_state& g, records& out);
void emit_group_tombstone(const std::string& group_id, records& out);
void emit_offset(const std::string& group_id, const topic_partition& tp, const offset_entry& e,
                 records& out);
void emit_offset_tombstone(const std::string& group_id, const topic_partition& tp, records& out);

// Applies one record to `groups`. A key or value that does not parse is an
// error and changes nothing.
Status apply_record(std::map<std::string, group_state>& groups, std::string_view key,
                    std::optional<std::string_view> value);

}  // namespace kappa::broker::group
