#include "broker/group/group_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <system_error>

#include "kappa/internal/v1/group_records.pb.h"

namespace kappa::broker::group {
namespace {

namespace iv1 = kappa::internal::v1;

Status corrupt(std::string message) {
  return Status(std::make_error_code(std::errc::bad_message),
                "__consumer_offsets record: " + std::move(message));
}

void ps_to_record(const partition_set& s,
                  google::protobuf::RepeatedPtrField<iv1::GroupTopicPartitions>* out) {
  for (const auto& [topic, parts] : s) {
    if (parts.empty()) continue;
    auto* t = out->Add();
    t->set_topic(topic);
    for (int32_t p : parts) t->add_partitions(p);
  }
}

partition_set ps_from_record(
    const google::protobuf::RepeatedPtrField<iv1::GroupTopicPartitions>& in) {
  partition_set s;
  for (const auto& t : in) {
    for (int32_t p : t.partitions()) s[t.topic()].insert(p);
  }
  ps_normalize(s);
  return s;
}

std::string offset_key(const std::string& group_id, const topic_partition& tp) {
  iv1::GroupRecordKey key;
  auto* k = key.mutable_offset();
  k->set_group_id(group_id);
  k->set_topic(tp.first);
  k->set_partition(tp.second);
  return key.SerializeAsString();
}

std::string group_key(const std::string& group_id) {
  iv1::GroupRecordKey key;
  key.mutable_group()->set_group_id(group_id);
  return key.SerializeAsString();
}

group_state& group_for(std::map<std::string, group_state>& groups, const std::string& group_id) {
  auto [it, inserted] = groups.try_emplace(group_id);
  if (inserted) it->second.group_id = group_id;
  return it->second;
}

}  // namespace

void emit_group(const group_state& g, records& out) {
  iv1::GroupMetadataValue v;
  v.set_assignor(g.assignor);
  v.set_group_epoch(g.group_epoch);
  v.set_assignment_epoch(g.assignment_epoch);
  for (const auto& [id, m] : g.members) {
    auto* r = v.add_members();
    r->set_member_id(m.member_id);
    r->set_instance_id(m.instance_id);
    r->set_client_id(m.client_id);
    r->set_host(m.host);
    for (const auto& t : m.subscribed_topics) r->add_subscribed_topics(t);
    r->set_subscribed_pattern(m.subscribed_pattern);
    r->set_session_timeout_ms(m.session_timeout_ms);
    r->set_rebalance_timeout_ms(m.rebalance_timeout_ms);
    r->set_member_epoch(m.member_epoch);
    r->set_previous_member_epoch(m.previous_member_epoch);
    ps_to_record(m.assigned, r->mutable_assigned());
    ps_to_record(m.pending_revocation, r->mutable_pending_revocation());
    r->set_left_temporarily(m.left_temporarily);
  }
  for (const auto& [id, parts] : g.target) {
    ps_to_record(parts, (*v.mutable_target())[id].mutable_partitions());
  }
  v.set_rebalances(g.rebalances);
  v.set_empty_since_ms(g.empty_since_ms);
  // Deterministic (the target map in key order): the same state, the same
  // bytes.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    v.SerializeToCodedStream(&coded);
  }
  out.push_back({group_key(g.group_id), std::move(bytes)});
}

void emit_group_tombstone(const std::string& group_id, records& out) {
  out.push_back({group_key(group_id), std::nullopt});
}

void emit_offset(const std::string& group_id, const topic_partition& tp, const offset_entry& e,
                 records& out) {
  iv1::OffsetCommitValue v;
  v.set_offset(e.offset);
  v.set_leader_epoch(e.leader_epoch);
  v.set_metadata(e.metadata);
  v.set_commit_timestamp_ms(e.commit_timestamp_ms);
  out.push_back({offset_key(group_id, tp), v.SerializeAsString()});
}

void emit_offset_tombstone(const std::string& group_id, const topic_partition& tp, records& out) {
  out.push_back({offset_key(group_id, tp), std::nullopt});
}

Status apply_record(std::map<std::string, group_state>& groups, std::string_view key,
                    std::optional<std::string_view> value) {
  iv1::GroupRecordKey k;
  if (!k.ParseFromArray(key.data(), static_cast<int>(key.size())))
    return corrupt("key does not parse");
  if (k.has_offset()) {
    const auto& ok = k.offset();
    if (ok.group_id().empty()) return corrupt("offset key without a group id");
    topic_partition tp{ok.topic(), ok.partition()};
    if (!value) {
      auto it = groups.find(ok.group_id());
      if (it != groups.end()) it->second.offsets.erase(tp);
      return {};
    }
    iv1::OffsetCommitValue v;
    if (!v.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
      return corrupt("offset value of group " + ok.group_id() + " does not parse");
    }
    // A commit to a group that does not exist creates it (see commit()).
    group_state& g = group_for(groups, ok.group_id());
    g.offsets[tp] =
        offset_entry{v.offset(), v.leader_epoch(), v.metadata(), v.commit_timestamp_ms()};
    return {};
  }
  if (k.has_group()) {
    const std::string& id = k.group().group_id();
    if (id.empty()) return corrupt("group key without a group id");
    if (!value) {
      groups.erase(id);
      return {};
    }
    iv1::GroupMetadataValue v;
    if (!v.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
      return corrupt("metadata of group " + id + " does not parse");
    }
    group_state& g = group_for(groups, id);
    g.assignor = v.assignor();
    g.group_epoch = v.group_epoch();
    g.assignment_epoch = v.assignment_epoch();
    g.rebalances = v.rebalances();
    g.empty_since_ms = v.empty_since_ms();
    g.members.clear();
    for (const auto& r : v.members()) {
      member_state m;
      m.member_id = r.member_id();
      m.instance_id = r.instance_id();
      m.client_id = r.client_id();
      m.host = r.host();
      m.subscribed_topics.assign(r.subscribed_topics().begin(), r.subscribed_topics().end());
      m.subscribed_pattern = r.subscribed_pattern();
      m.session_timeout_ms = r.session_timeout_ms();
      m.rebalance_timeout_ms = r.rebalance_timeout_ms();
      m.member_epoch = r.member_epoch();
      m.previous_member_epoch = r.previous_member_epoch();
      m.assigned = ps_from_record(r.assigned());
      m.pending_revocation = ps_from_record(r.pending_revocation());
      m.left_temporarily = r.left_temporarily();
      g.members[m.member_id] = std::move(m);
    }
    g.target.clear();
    for (const auto& [member_id, t] : v.target())
      g.target[member_id] = ps_from_record(t.partitions());
    g.topics_checked = 0;
    return {};
  }
  return corrupt("key names neither an offset nor a group");
}

}  // namespace kappa::broker::group
