// Committed offsets: group_shard::commit, fetch_offsets, delete_offsets and
// retention (expire_offsets, called by tick()).
#include <algorithm>
#include <climits>

#include "broker/group/group_codec.h"
#include "broker/group/group_offsets.h"
#include "broker/group/group_state.h"

namespace kappa::broker::group {
namespace {

v1::CommitOffsetsResponse commit_failure(v1::ErrorCode code, std::string message) {
  v1::CommitOffsetsResponse r;
  r.set_error_code(code);
  r.set_error_message(std::move(message));
  return r;
}

void add_result(v1::TopicPartitionResults* t, int32_t partition, v1::ErrorCode code,
                std::string message) {
  auto* p = t->add_partitions();
  p->set_partition(partition);
  p->set_error_code(code);
  p->set_error_message(std::move(message));
}

}  // namespace

v1::CommitOffsetsResponse group_shard::commit(const v1::CommitOffsetsRequest& request,
                                              const topics_view& topics, int64_t now_ms,
                                              int64_t wall_ms, records& out) {
  state_->wall_minus_now = wall_ms - now_ms;
  const std::string& group_id = request.group_id();
  if (group_id.empty()) return commit_failure(v1::INVALID_GROUP_ID, "group_id is empty");
  auto git = state_->groups.find(group_id);
  group_state* g = git == state_->groups.end() ? nullptr : &git->second;
  const bool admin = request.member_id().empty();
  if (admin) {
    if (request.member_epoch() != -1) {
      return commit_failure(v1::UNKNOWN_MEMBER_ID,
                            "a commit without a member_id must have member_epoch -1");
    }
    if (g != nullptr && !g->members.empty()) {
      return commit_failure(v1::NON_EMPTY_GROUP, "group " + group_id + " has " +
                                                     std::to_string(g->members.size()) +
                                                     " members: only they may commit");
    }
  } else {
    const member_state* m = nullptr;
    if (g != nullptr) {
      auto mit = g->members.find(request.member_id());
      if (mit != g->members.end() && !mit->second.left_temporarily) m = &mit->second;
    }
    if (m == nullptr) {
      return commit_failure(v1::UNKNOWN_MEMBER_ID,
                            "member " + request.member_id() + " is not in group " + group_id);
    }
    if (request.member_epoch() != m->member_epoch) {
      return commit_failure(v1::STALE_MEMBER_EPOCH, "member " + m->member_id + " is at epoch " +
                                                        std::to_string(m->member_epoch) + ", not " +
                                                        std::to_string(request.member_epoch()));
    }
  }
  v1::CommitOffsetsResponse response;
  for (const auto& topic : request.topics()) {
    auto* result = response.add_topics();
    result->set_topic(topic.topic());
    auto tit = topics.partitions.find(topic.topic());
    for (const auto& p : topic.partitions()) {
      if (tit == topics.partitions.end() || p.partition() < 0 || p.partition() >= tit->second) {
        add_result(result, p.partition(), v1::UNKNOWN_TOPIC_OR_PARTITION,
                   topic.topic() + "/" + std::to_string(p.partition()) + " does not exist");
        continue;
      }
      if (p.offset() < 0) {
        add_result(result, p.partition(), v1::INVALID_REQUEST, "offset must be >= 0");
        continue;
      }
      if (p.metadata().size() > options_.max_metadata_bytes) {
        add_result(result, p.partition(), v1::OFFSET_METADATA_TOO_LARGE,
                   "metadata has " + std::to_string(p.metadata().size()) + " bytes, at most " +
                       std::to_string(options_.max_metadata_bytes) + " allowed");
        continue;
      }
      if (g == nullptr) {  // a commit creates the group (as Kafka's)
        g = &state_->groups[group_id];
        g->group_id = group_id;
      }
      topic_partition tp{topic.topic(), p.partition()};
      offset_entry e{p.offset(), p.leader_epoch(), p.metadata(), wall_ms};
      emit_offset(group_id, tp, e, out);
      g->offsets[tp] = std::move(e);
      add_result(result, p.partition(), v1::NONE, "");
    }
  }
  return response;
}

v1::FetchOffsetsResponse group_shard::fetch_offsets(const v1::FetchOffsetsRequest& request) const {
  v1::FetchOffsetsResponse response;
  if (request.group_id().empty()) {
    response.set_error_code(v1::INVALID_GROUP_ID);
    response.set_error_message("group_id is empty");
    return response;
  }
  auto git = state_->groups.find(request.group_id());
  const group_state* g = git == state_->groups.end() ? nullptr : &git->second;
  auto fill = [](v1::FetchedOffset* f, int32_t partition, const offset_entry* e) {
    f->set_partition(partition);
    f->set_offset(e ? e->offset : -1);
    f->set_leader_epoch(e ? e->leader_epoch : -1);
    if (e) f->set_metadata(e->metadata);
    f->set_commit_timestamp_ms(e ? e->commit_timestamp_ms : 0);
  };
  if (request.partitions().empty()) {
    if (g == nullptr) return response;
    v1::FetchedTopicOffsets* current = nullptr;
    for (const auto& [tp, e] : g->offsets) {
      if (current == nullptr || current->topic() != tp.first) {
        current = response.add_topics();
        current->set_topic(tp.first);
      }
      fill(current->add_partitions(), tp.second, &e);
    }
    return response;
  }
  for (const auto& t : request.partitions()) {
    auto* out = response.add_topics();
    out->set_topic(t.topic());
    for (int32_t p : t.partitions()) {
      const offset_entry* e = nullptr;
      if (g != nullptr) {
        auto it = g->offsets.find({t.topic(), p});
        if (it != g->offsets.end()) e = &it->second;
      }
      fill(out->add_partitions(), p, e);
    }
  }
  return response;
}

v1::DeleteOffsetsResponse group_shard::delete_offsets(const v1::DeleteOffsetsRequest& request,
                                                      records& out) {
  v1::DeleteOffsetsResponse response;
  auto git = state_->groups.find(request.group_id());
  if (request.group_id().empty() || git == state_->groups.end()) {
    response.set_error_code(v1::GROUP_ID_NOT_FOUND);
    response.set_error_message("group " + request.group_id() + " does not exist");
    return response;
  }
  group_state& g = git->second;
  int refused = 0;
  for (const auto& t : request.partitions()) {
    auto* result = response.add_topics();
    result->set_topic(t.topic());
    std::set<int32_t> parts(t.partitions().begin(), t.partitions().end());
    if (parts.empty()) {
      for (auto it = g.offsets.lower_bound({t.topic(), INT32_MIN});
           it != g.offsets.end() && it->first.first == t.topic(); ++it) {
        parts.insert(it->first.second);
      }
    }
    bool subscribed = false;
    for (auto& [id, m] : g.members) subscribed = subscribed || subscribes_to(m, t.topic());
    if (subscribed) {
      ++refused;
      for (int32_t p : parts) {
        add_result(result, p, v1::GROUP_SUBSCRIBED_TO_TOPIC,
                   "a member of group " + g.group_id + " subscribes to " + t.topic());
      }
      continue;
    }
    for (int32_t p : parts) {
      if (g.offsets.erase({t.topic(), p}) > 0)
        emit_offset_tombstone(g.group_id, {t.topic(), p}, out);
      add_result(result, p, v1::NONE, "");
    }
  }
  if (refused > 0 && refused == request.partitions_size()) {
    // Nothing changed: say so once, also when a topic had no partition listed.
    response.set_error_code(v1::GROUP_SUBSCRIBED_TO_TOPIC);
    response.set_error_message("group " + g.group_id + " subscribes to every topic named");
  }
  return response;
}

void expire_offsets(group_state& g, const topics_view& topics, int64_t wall_ms,
                    int64_t retention_ms, records& out) {
  // An empty view is most likely metadata not known yet, not a cluster
  // without topics: deleted-topic expiry waits for a real view.
  const bool know_topics = !topics.partitions.empty();
  const bool empty = g.members.empty();
  for (auto it = g.offsets.begin(); it != g.offsets.end();) {
    const auto& [tp, e] = *it;
    bool expire = false;
    if (know_topics) {
      auto tit = topics.partitions.find(tp.first);
      expire = tit == topics.partitions.end() || tp.second >= tit->second;
    }
    if (!expire && empty) {
      // Kafka's rule: from when the group became empty, or from the commit
      // if that is later.
      int64_t since = std::max(g.empty_since_ms, e.commit_timestamp_ms);
      expire = wall_ms - since >= retention_ms;
    }
    if (expire) {
      emit_offset_tombstone(g.group_id, tp, out);
      it = g.offsets.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace kappa::broker::group
