#include "kappa/admin.h"

#include <chrono>
#include <map>
#include <utility>
#include <thread>

#include "client/src/admin_impl.h"
#include "client/src/backoff.h"
#include "client/src/list_offsets.h"

namespace kappa {

namespace v1 = client::v1;

namespace {

std::vector<topic_status> topic_results(const google::protobuf::RepeatedPtrField<v1::TopicResult>& results,
                                        const std::string& what) {
  std::vector<topic_status> out;
  for (const auto& r : results) out.push_back({r.name(), client::from_code(r.error_code(), r.error_message(), what + " " + r.name())});
  return out;
}

}  // namespace

admin::admin(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
admin::~admin() = default;

Result<std::unique_ptr<admin>> admin::create(const client_config& config) {
  if (client::parse_bootstrap(config.bootstrap).empty()) {
    return client_error(client_errc::invalid_argument, "admin config: empty bootstrap");
  }
  if (config.request_timeout_ms <= 0) return client_error(client_errc::invalid_argument, "admin config: request_timeout_ms must be > 0");
  return std::unique_ptr<admin>(new admin(std::make_unique<impl>(config)));
}

Result<std::vector<topic_status>> admin::create_topics(const std::vector<new_topic>& topics, bool validate_only) {
  v1::CreateTopicsRequest request;
  request.set_validate_only(validate_only);
  for (const auto& t : topics) {
    auto* n = request.add_topics();
    n->set_name(t.name);
    n->set_partitions(t.partitions);
    n->set_replication_factor(t.replication_factor);
    for (const auto& [k, v] : t.configs) (*n->mutable_configs())[k] = v;
  }
  v1::CreateTopicsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("create_topics", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->CreateTopics(c, request, &response);
  }));
  return topic_results(response.results(), "create_topics");
}

Result<std::vector<topic_status>> admin::delete_topics(const std::vector<std::string>& names) {
  v1::DeleteTopicsRequest request;
  for (const auto& n : names) request.add_names(n);
  v1::DeleteTopicsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("delete_topics", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->DeleteTopics(c, request, &response);
  }));
  return topic_results(response.results(), "delete_topics");
}

Result<std::vector<topic_description>> admin::describe_topics(const std::vector<std::string>& names,
                                                              bool include_internal) {
  v1::DescribeTopicsRequest request;
  for (const auto& n : names) request.add_names(n);
  request.set_include_internal(include_internal);
  v1::DescribeTopicsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("describe_topics", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->DescribeTopics(c, request, &response);
  }));
  std::vector<topic_description> out;
  for (const auto& t : response.topics()) {
    topic_description d;
    d.name = t.name();
    d.status = client::from_code(t.error_code(), t.error_message(), "describe_topics " + t.name());
    d.is_internal = t.is_internal();
    for (const auto& p : t.partitions()) {
      partition_description pd;
      pd.partition = p.partition();
      pd.leader_id = p.leader_id();
      pd.leader_epoch = p.leader_epoch();
      pd.replicas.assign(p.replicas().begin(), p.replicas().end());
      pd.in_sync_replicas.assign(p.in_sync_replicas().begin(), p.in_sync_replicas().end());
      pd.log_start_offset = p.log_start_offset();
      pd.high_watermark = p.high_watermark();
      pd.log_end_offset = p.log_end_offset();
      pd.size_bytes = p.size_bytes();
      pd.target_replicas.assign(p.target_replicas().begin(), p.target_replicas().end());
      d.partitions.push_back(std::move(pd));
    }
    out.push_back(std::move(d));
  }
  fill_log_stats_from_leaders(out);
  return out;
}

// A broker reports log figures (start, high watermark, end, size) from its
// own replica: -1 where it holds none, and a follower's high watermark may
// lag. So they are asked of each partition's leader, and the answer does not
// depend on which broker answered the describe. Best effort: where a leader
// cannot be asked, the first broker's figures stay.
void admin::fill_log_stats_from_leaders(std::vector<topic_description>& topics) {
  using key = std::pair<std::string, int32_t>;
  std::vector<std::string> names;
  for (auto& t : topics) {
    if (t.status.ok() && !t.partitions.empty()) names.push_back(t.name);
  }
  if (names.empty() || !impl_->metadata.refresh(names).ok()) return;
  std::map<std::string, std::map<key, partition_description*>> by_leader;  // leader address -> partitions
  for (auto& t : topics) {
    for (auto& p : t.partitions) {
      if (p.leader_id < 0) continue;
      if (auto address = impl_->metadata.leader(t.name, p.partition)) by_leader[*address][{t.name, p.partition}] = &p;
    }
  }
  for (auto& [address, wanted] : by_leader) {
    v1::DescribeTopicsRequest request;
    for (const auto& n : names) request.add_names(n);
    v1::DescribeTopicsResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(impl_->pool.config().request_timeout_ms));
    if (!impl_->pool.admin(address)->DescribeTopics(&context, request, &response).ok()) continue;
    for (const auto& t : response.topics()) {
      for (const auto& rp : t.partitions()) {
        auto it = wanted.find({t.name(), rp.partition()});
        if (it == wanted.end() || rp.high_watermark() < 0) continue;
        it->second->log_start_offset = rp.log_start_offset();
        it->second->high_watermark = rp.high_watermark();
        it->second->log_end_offset = rp.log_end_offset();
        it->second->size_bytes = rp.size_bytes();
      }
    }
  }
}

Result<std::vector<topic_configs>> admin::describe_configs(const std::vector<std::string>& topics) {
  v1::DescribeConfigsRequest request;
  for (const auto& t : topics) request.add_topics(t);
  v1::DescribeConfigsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("describe_configs", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->DescribeConfigs(c, request, &response);
  }));
  std::vector<topic_configs> out;
  for (const auto& r : response.results()) {
    topic_configs tc;
    tc.topic = r.topic();
    tc.status = client::from_code(r.error_code(), r.error_message(), "describe_configs " + r.topic());
    for (const auto& e : r.entries()) {
      tc.entries.push_back({e.name(), e.value(), e.is_default(), e.is_sensitive(), e.documentation()});
    }
    out.push_back(std::move(tc));
  }
  return out;
}

Result<std::vector<topic_status>> admin::alter_configs(const std::vector<config_change>& changes, bool validate_only) {
  v1::AlterConfigsRequest request;
  request.set_validate_only(validate_only);
  for (const auto& ch : changes) {
    auto* c = request.add_changes();
    c->set_topic(ch.topic);
    for (const auto& [k, v] : ch.set) (*c->mutable_set())[k] = v;
    for (const auto& r : ch.remove) c->add_remove(r);
  }
  v1::AlterConfigsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("alter_configs", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->AlterConfigs(c, request, &response);
  }));
  return topic_results(response.results(), "alter_configs");
}

Result<cluster_description> admin::describe_cluster() {
  v1::DescribeClusterRequest request;
  v1::DescribeClusterResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("describe_cluster", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->DescribeCluster(c, request, &response);
  }));
  cluster_description d;
  d.cluster_id = response.cluster_id();
  d.controller_id = response.controller_id();
  for (const auto& b : response.brokers()) d.brokers.push_back({b.id(), b.address(), b.alive()});
  return d;
}

Status admin::reassign_partition(const topic_partition& tp, const std::vector<int32_t>& replicas) {
  v1::ReassignPartitionRequest request;
  request.set_topic(tp.topic);
  request.set_partition(tp.partition);
  for (int32_t r : replicas) request.add_replicas(r);
  v1::ReassignPartitionResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("reassign_partition", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->ReassignPartition(c, request, &response);
  }));
  return client::from_code(response.error_code(), response.error_message(),
                           "reassign_partition " + tp.topic + "-" + std::to_string(tp.partition));
}

Result<std::vector<leader_move>> admin::rebalance_leaders(int32_t timeout_ms) {
  KAPPA_ASSIGN_OR_RETURN(cluster_description cluster, describe_cluster());
  std::vector<leader_move> out;
  for (const auto& b : cluster.brokers) {
    if (!b.alive) continue;
    v1::RebalanceLeadersRequest request;
    request.set_timeout_ms(timeout_ms);
    v1::RebalanceLeadersResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(int64_t(timeout_ms) + impl_->pool.config().request_timeout_ms));
    const std::string what = "rebalance_leaders at broker " + std::to_string(b.id) + " (" + b.address + ")";
    grpc::Status status = impl_->pool.admin(b.address)->RebalanceLeaders(&context, request, &response);
    if (!status.ok()) {
      leader_move failed;
      failed.broker_id = b.id;
      failed.status = client::from_grpc(status, what);
      out.push_back(std::move(failed));
      continue;
    }
    for (const auto& m : response.moves()) {
      out.push_back({b.id, {m.topic(), m.partition()}, m.new_leader(),
                     client::from_code(m.error_code(), m.error_message(), what)});
    }
  }
  return out;
}

Result<std::vector<delete_records_result>> admin::delete_records(
    const std::vector<std::pair<topic_partition, int64_t>>& before_offsets) {
  v1::DeleteRecordsRequest request;
  request.set_timeout_ms(static_cast<int32_t>(impl_->pool.config().request_timeout_ms));
  for (const auto& [tp, before] : before_offsets) {
    auto* t = request.add_topics();
    t->set_topic(tp.topic);
    auto* p = t->add_partitions();
    p->set_partition(tp.partition);
    p->set_before_offset(before);
  }
  v1::DeleteRecordsResponse response;
  KAPPA_RETURN_IF_ERROR(impl_->call("delete_records", [&](v1::Admin::Stub* stub, grpc::ClientContext* c) {
    return stub->DeleteRecords(c, request, &response);
  }));
  std::vector<delete_records_result> out;
  for (const auto& t : response.topics()) {
    for (const auto& p : t.partitions()) {
      const std::string what = "delete_records " + t.topic() + "-" + std::to_string(p.partition());
      out.push_back({{t.topic(), p.partition()}, client::from_code(p.error_code(), p.error_message(), what), p.low_watermark()});
    }
  }
  return out;
}

Result<std::vector<listed_offset>> admin::list_offsets(const std::vector<std::pair<topic_partition, int64_t>>& specs) {
  return client::list_offsets(impl_->pool, impl_->metadata, specs);
}

}  // namespace kappa
