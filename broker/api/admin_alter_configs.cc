// AlterConfigs: incremental (set some, reset some to defaults), validated
// as a whole before anything changes, committed through the controller;
// every broker applies it to its replicas. Runs on the admin pool.
#include "broker/api/services.h"
#include "broker/topic_name.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::AlterConfigs(grpc::CallbackServerContext* ctx,
                                                      const v1::AlterConfigsRequest* req,
                                                      v1::AlterConfigsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::alter_configs);
  run_blocking(pm_, [this, reactor, req, resp, timer] {
    for (const auto& c : req->changes()) {
      Status st = validate_topic_name(c.topic());
      if (st.ok()) {
        st = pm_.alter_configs(c.topic(), topic_overrides(c.set().begin(), c.set().end()),
                               std::vector<std::string>(c.remove().begin(), c.remove().end()),
                               req->validate_only());
      }
      auto* r = resp->add_results();
      r->set_name(c.topic());
      r->set_error_code(to_error_code(st));
      r->set_error_message(st.ok() ? "" : st.message());
    }
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
