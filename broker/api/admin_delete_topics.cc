// DeleteTopics: the controller commits the deletion; every broker then
// retires and deletes its replicas (this one before answering, so the name
// can be reused at once). Runs on the admin pool.
#include "broker/api/services.h"
#include "broker/topic_name.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DeleteTopics(grpc::CallbackServerContext* ctx,
                                                      const v1::DeleteTopicsRequest* req,
                                                      v1::DeleteTopicsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::delete_topics);
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    for (const auto& name : req->names()) {
      Status st = validate_topic_name(name);
      if (st.ok()) st = pm_.delete_topic(name);
      auto* r = resp->add_results();
      r->set_name(name);
      r->set_error_code(to_error_code(st));
      r->set_error_message(st.ok() ? "" : st.message());
    }
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
