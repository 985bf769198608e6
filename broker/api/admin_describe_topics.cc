// DescribeTopics: partitions with leader, replicas, log start, high
// watermark, log end and size. In-memory: answered on the gRPC thread.
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DescribeTopics(grpc::CallbackServerContext* ctx,
                                                        const v1::DescribeTopicsRequest* req,
                                                        v1::DescribeTopicsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::describe_topics);
  const int32_t node = pm_.config().node_id;
  std::vector<std::string> names(req->names().begin(), req->names().end());
  if (names.empty()) {
    for (const auto& t : pm_.topics()) {
      if (req->include_internal() || !is_internal_topic(t.name)) names.push_back(t.name);
    }
  }
  for (const auto& name : names) {
    auto* td = resp->add_topics();
    td->set_name(name);
    td->set_is_internal(is_internal_topic(name));
    Status st = validate_topic_name(name);
    if (st.ok() && !pm_.topic(name)) {
      st = error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
    }
    if (!st.ok()) {
      td->set_error_code(to_error_code(st));
      td->set_error_message(st.message());
      continue;
    }
    for (const auto& p : pm_.partitions_of(name)) {
      auto* pd = td->add_partitions();
      pd->set_partition(p->id().partition);
      pd->set_leader_id(node);
      pd->set_leader_epoch(0);
      pd->add_replicas(node);
      pd->add_in_sync_replicas(node);
      pd->set_log_start_offset(p->log_start_offset());
      pd->set_high_watermark(p->high_watermark());
      pd->set_log_end_offset(p->log_end_offset());
      pd->set_size_bytes(int64_t(p->size_bytes()));
    }
  }
  timer.finish(reactor, grpc::Status::OK);
  return reactor;
}

}  // namespace kappa::broker
