// DescribeTopics: every partition of the topic (from the metadata image) with
// leader, epoch, replicas, in-sync replicas and a reassignment's target; the
// offsets and size come from the local replica when this broker hosts one
// (-1 otherwise: ask the leader). In-memory: answered on the gRPC thread.
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DescribeTopics(grpc::CallbackServerContext* ctx,
                                                        const v1::DescribeTopicsRequest* req,
                                                        v1::DescribeTopicsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::describe_topics);
  const auto v = pm_.view();
  std::vector<std::string> names(req->names().begin(), req->names().end());
  if (names.empty()) {
    for (const auto& [name, _] : v.image->topics) {
      if (req->include_internal() || !is_internal_topic(name)) names.push_back(name);
    }
  }
  for (const auto& name : names) {
    auto* td = resp->add_topics();
    td->set_name(name);
    td->set_is_internal(is_internal_topic(name));
    Status st = validate_topic_name(name);
    auto it = v.image->topics.find(name);
    if (st.ok() && it == v.image->topics.end()) {
      st = error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
    }
    if (!st.ok()) {
      td->set_error_code(to_error_code(st));
      td->set_error_message(st.message());
      continue;
    }
    const auto& parts = it->second.partitions;
    for (int32_t p = 0; p < int32_t(parts.size()); ++p) {
      const auto s = pm_.state_of(v, name, p);
      auto* pd = td->add_partitions();
      pd->set_partition(p);
      pd->set_leader_id(s.leader);
      pd->set_leader_epoch(s.epoch);
      for (int32_t r : s.replicas) pd->add_replicas(r);
      for (int32_t r : s.in_sync) pd->add_in_sync_replicas(r);
      for (int32_t r : parts[size_t(p)].target) pd->add_target_replicas(r);
      if (auto local = pm_.get(name, p)) {
        pd->set_log_start_offset(local->log_start_offset());
        pd->set_high_watermark(local->high_watermark());
        pd->set_log_end_offset(local->log_end_offset());
        pd->set_size_bytes(int64_t(local->size_bytes()));
      } else {
        pd->set_log_start_offset(-1);
        pd->set_high_watermark(-1);
        pd->set_log_end_offset(-1);
        pd->set_size_bytes(-1);
      }
    }
  }
  timer.finish(reactor, grpc::Status::OK);
  return reactor;
}

}  // namespace kappa::broker
