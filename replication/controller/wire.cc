#include "replication/controller/wire.h"

#include <type_traits>

#include "replication/controller/errc.h"

namespace kappa::controller::wire {
namespace {

template <typename Map>
std::map<std::string, std::string> to_map(const Map& m) {
  return {m.begin(), m.end()};
}
template <typename Map>
void fill_map(const std::map<std::string, std::string>& from, Map* to) {
  for (const auto& [k, v] : from) (*to)[k] = v;
}
template <typename Repeated>
std::vector<int32_t> to_vec(const Repeated& r) {
  return {r.begin(), r.end()};
}
template <typename Repeated>
void fill_vec(const std::vector<int32_t>& from, Repeated* to) {
  for (int32_t v : from) to->Add(v);
}

void to_proto(const partition_info& p, pb::PartitionAssignment* out) {
  fill_vec(p.replicas, out->mutable_replicas());
  fill_vec(p.target, out->mutable_target());
}
partition_info from_proto(const pb::PartitionAssignment& p) {
  return {to_vec(p.replicas()), to_vec(p.target())};
}

void to_proto(const topic_info& t, pb::TopicRecord* out) {
  out->set_name(t.name);
  out->set_id(t.id);
  for (const auto& p : t.partitions) to_proto(p, out->add_partitions());
  fill_map(t.configs, out->mutable_configs());
}
topic_info from_proto(const pb::TopicRecord& t) {
  topic_info out;
  out.name = t.name();
  out.id = t.id();
  for (const auto& p : t.partitions()) out.partitions.push_back(from_proto(p));
  out.configs = to_map(t.configs());
  return out;
}

}  // namespace

void to_proto(const broker_info& b, pb::ControllerBrokerInfo* out) {
  out->set_id(b.id);
  out->set_client_address(b.client_address);
  out->set_internal_address(b.internal_address);
}
broker_info from_proto(const pb::ControllerBrokerInfo& b) {
  return {b.id(), b.client_address(), b.internal_address()};
}

void to_proto(const metadata_record& r, pb::MetadataRecord* out) {
  std::visit(
      [out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, register_broker_record>) {
          to_proto(x.broker, out->mutable_register_broker()->mutable_broker());
        } else if constexpr (std::is_same_v<T, create_topic_record>) {
          to_proto(x.topic, out->mutable_create_topic()->mutable_topic());
        } else if constexpr (std::is_same_v<T, delete_topic_record>) {
          out->mutable_delete_topic()->set_name(x.name);
        } else if constexpr (std::is_same_v<T, set_configs_record>) {
          auto* m = out->mutable_set_configs();
          m->set_name(x.name);
          fill_map(x.configs, m->mutable_configs());
        } else if constexpr (std::is_same_v<T, set_partition_record>) {
          auto* m = out->mutable_set_partition();
          m->set_topic(x.topic);
          m->set_partition(x.partition);
          to_proto(x.info, m->mutable_info());
        } else {
          static_assert(std::is_same_v<T, producer_ids_record>);
          auto* m = out->mutable_producer_ids();
          m->set_start(x.start);
          m->set_count(x.count);
        }
      },
      r);
}

Result<metadata_record> from_proto(const pb::MetadataRecord& r) {
  switch (r.record_case()) {
    case pb::MetadataRecord::kRegisterBroker:
      return metadata_record(register_broker_record{from_proto(r.register_broker().broker())});
    case pb::MetadataRecord::kCreateTopic:
      return metadata_record(create_topic_record{from_proto(r.create_topic().topic())});
    case pb::MetadataRecord::kDeleteTopic:
      return metadata_record(delete_topic_record{r.delete_topic().name()});
    case pb::MetadataRecord::kSetConfigs:
      return metadata_record(
          set_configs_record{r.set_configs().name(), to_map(r.set_configs().configs())});
    case pb::MetadataRecord::kSetPartition:
      return metadata_record(set_partition_record{r.set_partition().topic(),
                                                  r.set_partition().partition(),
                                                  from_proto(r.set_partition().info())});
    case pb::MetadataRecord::kProducerIds:
      return metadata_record(
          producer_ids_record{r.producer_ids().start(), r.producer_ids().count()});
    case pb::MetadataRecord::RECORD_NOT_SET:
      break;
  }
  return error(errc::invalid_request, "metadata record: no record kind set");
}

void to_proto(const command& c, pb::SubmitRequest* out) {
  std::visit(
      [out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, create_topic_command>) {
          auto* m = out->mutable_create_topic();
          m->set_name(x.name);
          m->set_partitions(x.partitions);
          m->set_replication_factor(x.replication_factor);
          fill_map(x.configs, m->mutable_configs());
        } else if constexpr (std::is_same_v<T, delete_topic_command>) {
          out->mutable_delete_topic()->set_name(x.name);
        } else if constexpr (std::is_same_v<T, alter_configs_command>) {
          auto* m = out->mutable_alter_configs();
          m->set_name(x.name);
          fill_map(x.configs, m->mutable_configs());
        } else if constexpr (std::is_same_v<T, reassign_command>) {
          auto* m = out->mutable_reassign();
          m->set_topic(x.topic);
          m->set_partition(x.partition);
          fill_vec(x.replicas, m->mutable_replicas());
        } else if constexpr (std::is_same_v<T, complete_reassign_command>) {
          auto* m = out->mutable_complete_reassign();
          m->set_topic(x.topic);
          m->set_partition(x.partition);
          fill_vec(x.replicas, m->mutable_replicas());
        } else if constexpr (std::is_same_v<T, register_broker_command>) {
          to_proto(x.broker, out->mutable_register_broker()->mutable_broker());
        } else {
          static_assert(std::is_same_v<T, allocate_producer_ids_command>);
          out->mutable_allocate_producer_ids()->set_count(x.count);
        }
      },
      c);
}

Result<command> command_from_proto(const pb::SubmitRequest& r) {
  switch (r.command_case()) {
    case pb::SubmitRequest::kCreateTopic: {
      const auto& m = r.create_topic();
      return command(create_topic_command{m.name(), m.partitions(), m.replication_factor(),
                                          to_map(m.configs())});
    }
    case pb::SubmitRequest::kDeleteTopic:
      return command(delete_topic_command{r.delete_topic().name()});
    case pb::SubmitRequest::kAlterConfigs:
      return command(
          alter_configs_command{r.alter_configs().name(), to_map(r.alter_configs().configs())});
    case pb::SubmitRequest::kReassign:
      return command(reassign_command{r.reassign().topic(), r.reassign().partition(),
                                      to_vec(r.reassign().replicas())});
    case pb::SubmitRequest::kCompleteReassign:
      return command(complete_reassign_command{r.complete_reassign().topic(),
                                               r.complete_reassign().partition(),
                                               to_vec(r.complete_reassign().replicas())});
    case pb::SubmitRequest::kRegisterBroker:
      return command(register_broker_command{from_proto(r.register_broker().broker())});
    case pb::SubmitRequest::kAllocateProducerIds:
      return command(allocate_producer_ids_command{r.allocate_producer_ids().count()});
    case pb::SubmitRequest::COMMAND_NOT_SET:
      break;
  }
  return error(errc::invalid_request, "submit: no command set");
}

void to_proto(const leader_entry& e, pb::PartitionLeader* out) {
  out->set_topic(e.topic);
  out->set_partition(e.partition);
  out->set_leader(e.leader);
  out->set_epoch(e.epoch);
  fill_vec(e.in_sync, out->mutable_in_sync());
}
leader_entry from_proto(const pb::PartitionLeader& e) {
  return {e.topic(), e.partition(), e.leader(), e.epoch(), to_vec(e.in_sync())};
}

}  // namespace kappa::controller::wire
