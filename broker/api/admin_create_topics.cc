// CreateTopics: validates name, partitions, replication factor (at most the
// live brokers) and configs here, then the controller places the replicas and
// commits the topic; answers once this broker's replicas of it are open and
// know a leader (bounded). Runs on the admin pool.
#include "broker/api/services.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::CreateTopics(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateTopicsRequest* req,
                                                      v1::CreateTopicsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::create_topics);
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    for (const auto& t : req->topics()) {
      create_topic_request cr;
      cr.name = t.name();
      cr.partitions = t.partitions();
      cr.replication_factor = t.replication_factor();
      cr.configs = topic_overrides(t.configs().begin(), t.configs().end());
      cr.validate_only = req->validate_only();
      Status st = pm_.create_topic(cr);
      auto* r = resp->add_results();
      r->set_name(t.name());
      r->set_error_code(to_error_code(st));
      r->set_error_message(st.ok() ? "" : st.message());
    }
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
