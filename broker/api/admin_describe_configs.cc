// DescribeConfigs: every topic config with its effective value and whether
// it is the broker default. In-memory: answered on the gRPC thread.
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {

grpc::ServerUnaryReactor* admin_service::DescribeConfigs(grpc::CallbackServerContext* ctx,
                                                         const v1::DescribeConfigsRequest* req,
                                                         v1::DescribeConfigsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::describe_configs);
  for (const auto& name : req->topics()) {
    auto* r = resp->add_results();
    r->set_topic(name);
    Status st = validate_topic_name(name);
    auto info = st.ok() ? pm_.topic(name) : std::nullopt;
    if (st.ok() && !info) st = error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
    if (!st.ok()) {
      r->set_error_code(to_error_code(st));
      r->set_error_message(st.message());
      continue;
    }
    for (const auto& e : describe_topic_configs(pm_.config().default_log, info->configs)) {
      auto* ce = r->add_entries();
      ce->set_name(e.name);
      ce->set_value(e.value);
      ce->set_is_default(e.is_default);
      ce->set_documentation(e.documentation);
    }
  }
  timer.finish(reactor, grpc::Status::OK);
  return reactor;
}

}  // namespace kappa::broker
