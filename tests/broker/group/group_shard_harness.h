// A group_shard with a clock, a topics view and the log of every record it
// emitted, for the shard's tests.
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "broker/group/group_shard.h"

namespace kappa::broker::group::testing {

inline partition_set to_set(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& in) {
  partition_set s;
  for (const auto& t : in) {
    for (int32_t p : t.partitions()) s[t.topic()].insert(p);
  }
  return s;
}

inline void to_proto(const partition_set& s,
                     google::protobuf::RepeatedPtrField<v1::TopicPartitions>* out) {
  for (const auto& [topic, parts] : s) {
    if (parts.empty()) continue;
    auto* t = out->Add();
    t->set_topic(topic);
    for (int32_t p : parts) t->add_partitions(p);
  }
}

inline size_t count(const partition_set& s) {
  size_t n = 0;
  for (const auto& [topic, parts] : s) n += parts.size();
  return n;
}

struct harness {
  explicit harness(shard_options o = test_options())
      : options(o), shard(std::make_unique<group_shard>(o)) {}

  static shard_options test_options() {
    shard_options o;
    o.default_session_timeout_ms = 10000;
    o.default_rebalance_timeout_ms = 10000;
    o.offsets_retention_ms = 60000;
    o.id_seed = 42;
    return o;
  }

  shard_options options;
  std::unique_ptr<group_shard> shard;
  topics_view topics;
  records log;
  int64_t now_ms = 1000;
  int64_t wall_ms = 1'700'000'000'000;

  void advance(int64_t ms) {
    now_ms += ms;
    wall_ms += ms;
  }

  v1::GroupHeartbeatResponse heartbeat(const v1::GroupHeartbeatRequest& r,
                                       const std::string& host = "127.0.0.1:5000") {
    records out;
    auto resp = shard->heartbeat(r, host, topics, now_ms, out);
    if (resp.error_code() != v1::NONE) CHECK(out.empty());  // a refused request changes nothing
    log.insert(log.end(), out.begin(), out.end());
    return resp;
  }

  v1::GroupHeartbeatResponse join(const std::string& group, std::vector<std::string> subscribed,
                                  const std::string& instance_id = "",
                                  const std::string& pattern = "") {
    v1::GroupHeartbeatRequest r;
    r.set_group_id(group);
    r.set_member_epoch(0);
    r.set_instance_id(instance_id);
    r.set_client_id("client");
    for (auto& t : subscribed) r.add_subscribed_topics(t);
    r.set_subscribed_pattern(pattern);
    return heartbeat(r);
  }

  // A heartbeat at `epoch` reporting `owned`, with the subscription of `sub`.
  v1::GroupHeartbeatResponse beat(const std::string& group, const std::string& member_id,
                                  int32_t epoch, const partition_set& owned,
                                  std::vector<std::string> subscribed,
                                  const std::string& instance_id = "",
                                  const std::string& pattern = "") {
    v1::GroupHeartbeatRequest r;
    r.set_group_id(group);
    r.set_member_id(member_id);
    r.set_member_epoch(epoch);
    r.set_instance_id(instance_id);
    r.set_client_id("client");
    for (auto& t : subscribed) r.add_subscribed_topics(t);
    r.set_subscribed_pattern(pattern);
    to_proto(owned, r.mutable_owned());
    return heartbeat(r);
  }

  v1::GroupHeartbeatResponse leave(const std::string& group, const std::string& member_id,
                                   int32_t epoch = -1) {
    v1::GroupHeartbeatRequest r;
    r.set_group_id(group);
    r.set_member_id(member_id);
    r.set_member_epoch(epoch);
    return heartbeat(r);
  }

  v1::CommitOffsetsResponse commit(const std::string& group, const std::string& member_id,
                                   int32_t epoch, const std::string& topic, int32_t partition,
                                   int64_t offset, const std::string& metadata = "") {
    v1::CommitOffsetsRequest r;
    r.set_group_id(group);
    r.set_member_id(member_id);
    r.set_member_epoch(epoch);
    auto* t = r.add_topics();
    t->set_topic(topic);
    auto* p = t->add_partitions();
    p->set_partition(partition);
    p->set_offset(offset);
    p->set_leader_epoch(3);
    p->set_metadata(metadata);
    records out;
    auto resp = shard->commit(r, topics, now_ms, wall_ms, out);
    log.insert(log.end(), out.begin(), out.end());
    return resp;
  }

  // The committed offset, -1 when none.
  int64_t committed(const std::string& group, const std::string& topic, int32_t partition) const {
    v1::FetchOffsetsRequest r;
    r.set_group_id(group);
    auto* t = r.add_partitions();
    t->set_topic(topic);
    t->add_partitions(partition);
    auto resp = shard->fetch_offsets(r);
    REQUIRE(resp.topics_size() == 1);
    REQUIRE(resp.topics(0).partitions_size() == 1);
    return resp.topics(0).partitions(0).offset();
  }

  void tick() {
    records out;
    shard->tick(topics, now_ms, wall_ms, out);
    log.insert(log.end(), out.begin(), out.end());
  }

  v1::DescribeGroupResponse describe(const std::string& group) const {
    v1::DescribeGroupRequest r;
    r.set_group_id(group);
    return shard->describe(r);
  }

  // A new shard rebuilt from every record emitted so far.
  // id_seed: the new shard's member-id seed (0: the same as this one's).
  std::unique_ptr<group_shard> replayed(uint64_t id_seed = 0) const {
    shard_options o = options;
    if (id_seed != 0) o.id_seed = id_seed;
    auto s = std::make_unique<group_shard>(o);
    for (const auto& rec : log) {
      std::optional<std::string_view> v;
      if (rec.value) v = std::string_view(*rec.value);
      REQUIRE(s->replay(rec.key, v).ok());
    }
    s->loaded(now_ms);
    return s;
  }

  // replay() reproduces describe() of every group, fetch_offsets and list.
  void check_replay_matches() const {
    auto other = replayed();
    v1::ListGroupsResponse mine;
    v1::ListGroupsResponse theirs;
    shard->list({}, mine);
    other->list({}, theirs);
    INFO("list: " << mine.DebugString() << " vs replayed " << theirs.DebugString());
    REQUIRE(google::protobuf::util::MessageDifferencer::Equals(mine, theirs));
    for (const auto& g : mine.groups()) {
      v1::DescribeGroupRequest d;
      d.set_group_id(g.group_id());
      auto a = shard->describe(d);
      auto b = other->describe(d);
      INFO("group " << g.group_id() << ": " << a.DebugString() << " vs replayed "
                    << b.DebugString());
      CHECK(google::protobuf::util::MessageDifferencer::Equals(a, b));
      v1::FetchOffsetsRequest f;
      f.set_group_id(g.group_id());
      CHECK(google::protobuf::util::MessageDifferencer::Equals(shard->fetch_offsets(f),
                                                               other->fetch_offsets(f)));
    }
  }
};

// A well-behaved member: releases at once what it is told to, takes what it
// is given.
struct member {
  std::string id;
  int32_t epoch = 0;
  partition_set owned;
  std::vector<std::string> topics;
  std::string instance_id;
  std::string pattern;

  v1::GroupHeartbeatResponse join(harness& h, const std::string& group) {
    auto r = h.join(group, topics, instance_id, pattern);
    REQUIRE(r.error_code() == v1::NONE);
    id = r.member_id();
    epoch = r.member_epoch();
    owned = to_set(r.assignment());
    return r;
  }
  v1::GroupHeartbeatResponse beat(harness& h, const std::string& group) {
    auto r = h.beat(group, id, epoch, owned, topics, instance_id, pattern);
    if (r.error_code() == v1::NONE) {
      epoch = r.member_epoch();
      owned = to_set(r.assignment());
    }
    return r;
  }
};

// Heartbeats every member `rounds` times.
inline void converge(harness& h, const std::string& group, std::vector<member*> members,
                     int rounds = 4) {
  for (int i = 0; i < rounds; ++i) {
    for (member* m : members) REQUIRE(m->beat(h, group).error_code() == v1::NONE);
  }
}

}  // namespace kappa::broker::group::testing
