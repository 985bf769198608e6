// kappa::admin's consumer-group calls: each goes to the group's coordinator
// through a coordinator_route (FindCoordinator, NOT_COORDINATOR followed,
// retried until request_timeout_ms); list_groups asks every live broker,
// since each lists only the groups it coordinates.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "client/src/admin_impl.h"
#include "client/src/backoff.h"
#include "client/src/group_rpc.h"

namespace kappa {

namespace v1 = client::v1;

namespace {

using topic_partitions_map = std::map<std::string, std::vector<int32_t>>;

Status check_group_id(const std::string& group_id) {
  if (group_id.empty()) return client_error(client_errc::invalid_group_id, "the group id is empty");
  return Status();
}

std::vector<topic_partition> to_partitions(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& tps) {
  std::vector<topic_partition> out;
  for (const auto& t : tps) {
    for (int32_t p : t.partitions()) out.push_back({t.topic(), p});
  }
  std::sort(out.begin(), out.end());
  return out;
}

void add_partitions(const std::vector<topic_partition>& partitions,
                    google::protobuf::RepeatedPtrField<v1::TopicPartitions>* out) {
  topic_partitions_map by_topic;
  for (const auto& tp : partitions) {
    auto& list = by_topic[tp.topic];
    // -1 stands for the whole topic: an empty partition list on the wire.
    if (tp.partition >= 0) list.push_back(tp.partition);
  }
  for (const auto& [topic, list] : by_topic) {
    auto* t = out->Add();
    t->set_topic(topic);
    const bool whole_topic = std::any_of(
        partitions.begin(), partitions.end(),
        [&](const topic_partition& tp) { return tp.topic == topic && tp.partition < 0; });
    if (!whole_topic) {
      for (int32_t p : list) t->add_partitions(p);
    }
  }
}

std::vector<partition_result> partition_results(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitionResults>& topics,
    const std::string& what) {
  std::vector<partition_result> out;
  for (const auto& t : topics) {
    for (const auto& p : t.partitions()) {
      out.push_back(
          {{t.topic(), p.partition()},
           client::from_code(p.error_code(), p.error_message(),
                             what + " " + t.topic() + "-" + std::to_string(p.partition()))});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const partition_result& a, const partition_result& b) { return a.tp < b.tp; });
  return out;
}

}  // namespace

Result<std::vector<group_listing>> admin::list_groups() {
  KAPPA_ASSIGN_OR_RETURN(cluster_description cluster, describe_cluster());
  const client_config& config = impl_->pool.config();
  std::map<std::string, group_listing> merged;
  for (const broker_description& b : cluster.brokers) {
    if (!b.alive) continue;
    const std::string what =
        "list_groups at broker " + std::to_string(b.id) + " (" + b.address + ")";
    const int64_t deadline = client::now_ms() + config.request_timeout_ms;
    v1::ListGroupsResponse response;
    Status outcome;
    // A broker missing from the answer would hide its groups: each live
    // broker is retried until the deadline, then the whole call fails.
    for (int attempt = 1;; ++attempt) {
      grpc::ClientContext context;
      // The broker is alive by the controller's account: wait (up to the
      // deadline) for its channel to connect instead of failing fast while
      // it is still connecting.
      context.set_wait_for_ready(true);
      context.set_deadline(
          std::chrono::system_clock::now() +
          std::chrono::milliseconds(std::max<int64_t>(1, deadline - client::now_ms())));
      response.Clear();
      grpc::Status status =
          impl_->pool.group(b.address)->ListGroups(&context, v1::ListGroupsRequest(), &response);
      outcome = status.ok()
                    ? client::from_code(response.error_code(), response.error_message(), what)
                    : client::from_grpc(status, what);
      if (outcome.ok() || !is_retriable(outcome.code())) break;
      const int64_t wait = client::backoff_ms(config, attempt);
      if (client::now_ms() + wait >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    KAPPA_RETURN_IF_ERROR(outcome);
    for (const auto& g : response.groups()) {
      // While a coordinator moves, two brokers may both list a group: the
      // first answer is kept.
      merged.try_emplace(g.group_id(),
                         group_listing{g.group_id(), g.state(), g.members(), g.coordinator_id()});
    }
  }
  std::vector<group_listing> out;
  for (auto& [id, g] : merged) out.push_back(std::move(g));
  return out;
}

Result<group_description> admin::describe_group(const std::string& group_id) {
  KAPPA_RETURN_IF_ERROR(check_group_id(group_id));
  client::coordinator_route route(impl_->pool, impl_->metadata, group_id);
  v1::DescribeGroupRequest request;
  request.set_group_id(group_id);
  v1::DescribeGroupResponse response;
  KAPPA_RETURN_IF_ERROR(
      route.call("describe group '" + group_id + "'", response,
                 client::now_ms() + impl_->pool.config().request_timeout_ms,
                 [&](v1::Group::Stub* stub, grpc::ClientContext* c, v1::DescribeGroupResponse* r) {
                   return stub->DescribeGroup(c, request, r);
                 }));
  group_description d;
  d.group_id = response.group_id().empty() ? group_id : response.group_id();
  d.state = response.state();
  d.assignor = response.assignor();
  d.group_epoch = response.group_epoch();
  d.assignment_epoch = response.assignment_epoch();
  d.coordinator_id =
      response.coordinator_id() >= 0 ? response.coordinator_id() : route.coordinator_id();
  d.rebalances = response.rebalances();
  for (const auto& m : response.members()) {
    group_member_description md;
    md.member_id = m.member_id();
    md.instance_id = m.instance_id();
    md.client_id = m.client_id();
    md.host = m.host();
    md.member_epoch = m.member_epoch();
    md.state = m.state();
    md.subscribed_topics.assign(m.subscribed_topics().begin(), m.subscribed_topics().end());
    md.subscribed_pattern = m.subscribed_pattern();
    md.assignment = to_partitions(m.assignment());
    md.target_assignment = to_partitions(m.target_assignment());
    d.members.push_back(std::move(md));
  }
  for (const auto& o : response.offsets()) {
    group_partition_offset po;
    po.tp = {o.topic(), o.partition()};
    po.committed_offset = o.committed_offset();
    po.high_watermark = o.high_watermark();
    po.lag = o.lag();
    po.owner_member_id = o.owner_member_id();
    po.metadata = o.metadata();
    d.offsets.push_back(std::move(po));
  }
  std::sort(
      d.offsets.begin(), d.offsets.end(),
      [](const group_partition_offset& a, const group_partition_offset& b) { return a.tp < b.tp; });
  return d;
}

Status admin::delete_group(const std::string& group_id) {
  KAPPA_RETURN_IF_ERROR(check_group_id(group_id));
  client::coordinator_route route(impl_->pool, impl_->metadata, group_id);
  v1::DeleteGroupRequest request;
  request.set_group_id(group_id);
  v1::DeleteGroupResponse response;
  return route.call("delete group '" + group_id + "'", response,
                    client::now_ms() + impl_->pool.config().request_timeout_ms,
                    [&](v1::Group::Stub* stub, grpc::ClientContext* c, v1::DeleteGroupResponse* r) {
                      return stub->DeleteGroup(c, request, r);
                    });
}

Result<std::vector<partition_result>> admin::delete_group_offsets(
    const std::string& group_id, const std::vector<topic_partition>& partitions) {
  KAPPA_RETURN_IF_ERROR(check_group_id(group_id));
  if (partitions.empty()) {
    return client_error(client_errc::invalid_argument, "delete_group_offsets: no partitions given");
  }
  client::coordinator_route route(impl_->pool, impl_->metadata, group_id);
  v1::DeleteOffsetsRequest request;
  request.set_group_id(group_id);
  add_partitions(partitions, request.mutable_partitions());
  v1::DeleteOffsetsResponse response;
  const std::string what = "delete offsets of group '" + group_id + "'";
  KAPPA_RETURN_IF_ERROR(
      route.call(what, response, client::now_ms() + impl_->pool.config().request_timeout_ms,
                 [&](v1::Group::Stub* stub, grpc::ClientContext* c, v1::DeleteOffsetsResponse* r) {
                   return stub->DeleteOffsets(c, request, r);
                 }));
  return partition_results(response.topics(), what);
}

Result<std::map<topic_partition, committed_offset>> admin::fetch_group_offsets(
    const std::string& group_id, const std::vector<topic_partition>& partitions) {
  KAPPA_RETURN_IF_ERROR(check_group_id(group_id));
  client::coordinator_route route(impl_->pool, impl_->metadata, group_id);
  v1::FetchOffsetsRequest request;
  request.set_group_id(group_id);
  add_partitions(partitions, request.mutable_partitions());
  v1::FetchOffsetsResponse response;
  const std::string what = "fetch offsets of group '" + group_id + "'";
  KAPPA_RETURN_IF_ERROR(
      route.call(what, response, client::now_ms() + impl_->pool.config().request_timeout_ms,
                 [&](v1::Group::Stub* stub, grpc::ClientContext* c, v1::FetchOffsetsResponse* r) {
                   return stub->FetchOffsets(c, request, r);
                 }));
  std::map<topic_partition, committed_offset> out;
  for (const auto& t : response.topics()) {
    for (const auto& p : t.partitions()) {
      KAPPA_RETURN_IF_ERROR(client::from_code(
          p.error_code(), "", what + " " + t.topic() + "-" + std::to_string(p.partition())));
      out[{t.topic(), p.partition()}] = {p.offset(), p.leader_epoch(), p.metadata(),
                                         p.commit_timestamp_ms()};
    }
  }
  return out;
}

Result<std::vector<partition_result>> admin::alter_group_offsets(
    const std::string& group_id, const std::map<topic_partition, int64_t>& offsets) {
  KAPPA_RETURN_IF_ERROR(check_group_id(group_id));
  if (offsets.empty()) return std::vector<partition_result>{};
  client::coordinator_route route(impl_->pool, impl_->metadata, group_id);
  v1::CommitOffsetsRequest request;
  request.set_group_id(group_id);
  // From outside the group: no member id, epoch -1 (the coordinator refuses
  // it with NON_EMPTY_GROUP while the group has members).
  request.set_member_epoch(-1);
  std::map<std::string, v1::OffsetCommitTopic*> topics;
  for (const auto& [tp, offset] : offsets) {
    auto*& t = topics[tp.topic];
    if (!t) {
      t = request.add_topics();
      t->set_topic(tp.topic);
    }
    auto* p = t->add_partitions();
    p->set_partition(tp.partition);
    p->set_offset(offset);
    p->set_leader_epoch(-1);
  }
  v1::CommitOffsetsResponse response;
  const std::string what = "alter offsets of group '" + group_id + "'";
  KAPPA_RETURN_IF_ERROR(
      route.call(what, response, client::now_ms() + impl_->pool.config().request_timeout_ms,
                 [&](v1::Group::Stub* stub, grpc::ClientContext* c, v1::CommitOffsetsResponse* r) {
                   return stub->CommitOffsets(c, request, r);
                 }));
  return partition_results(response.topics(), what);
}

}  // namespace kappa
