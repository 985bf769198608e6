// Produce (unary), and produce_request(): the core ProduceStream shares.
#include <atomic>
#include <mutex>

#include "broker/api/leader_hint.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

// One request in flight: a response slot per partition, filled by the
// partitions' callbacks; the last one to finish sends the response.
struct produce_op {
  v1::ProduceResponse response;
  std::atomic<int> remaining{1};  // +1 held by the dispatcher until it is done
  std::function<void(v1::ProduceResponse)> done;
  bool wait = true;  // false for ACKS_NONE

  void release() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && wait) done(std::move(response));
  }
};

void set_error(v1::PartitionProduceResponse* r, const Status& st) {
  r->set_error_code(to_error_code(st));
  r->set_error_message(st.message());
  r->set_base_offset(-1);
}

// A partition error, with the leader hint when it is about leadership. The
// partition's not_leader_or_follower message is the leader's id (for
// machines); the answer gets the API's wording and the hint's address.
void set_partition_error(partition_manager& pm, const std::string& topic,
                         v1::PartitionProduceResponse* r, Status st) {
  if (st.code() == errc::not_leader_or_follower) {
    Status why = check_leader(pm, topic, r->partition(), nullptr);
    // Produce keeps NOT_LEADER_OR_FOLLOWER even when the leader is unknown:
    // the client refreshes its metadata and retries either way.
    st = error(errc::not_leader_or_follower, why.message());
  }
  set_error(r, st);
  if (wants_leader_hint(st)) set_leader_hint(pm, topic, r->partition(), r->mutable_current_leader());
}

void dispatch(partition_manager& pm, v1::ProduceRequest req, std::shared_ptr<produce_op> op) {
  acks_mode acks = acks_mode::all;
  if (req.acks() == v1::ACKS_NONE) acks = acks_mode::none;
  if (req.acks() == v1::ACKS_LEADER) acks = acks_mode::leader;
  const int64_t timeout_ms =
      req.timeout_ms() > 0 ? req.timeout_ms() : pm.config().produce_timeout_ms_default;
  op->wait = acks != acks_mode::none;
  op->response.set_correlation_id(req.correlation_id());
  for (auto& t : *req.mutable_topics()) {
    auto* tr = op->response.add_topics();
    tr->set_topic(t.topic());
    Status topic_error = validate_topic_name(t.topic());
    if (topic_error.ok()) topic_error = check_client_may_write(t.topic());
    if (topic_error.ok() && !pm.topic(t.topic())) {
      topic_error = error(errc::unknown_topic_or_partition, "unknown topic '" + t.topic() + "'");
    }
    for (auto& p : *t.mutable_partitions()) {
      auto* pr = tr->add_partitions();
      pr->set_partition(p.partition());
      pr->set_log_append_time_ms(-1);
      pr->set_base_offset(-1);
      if (!topic_error.ok()) {
        set_error(pr, topic_error);
        continue;
      }
      auto part = pm.get(t.topic(), p.partition());
      if (!part) {
        set_partition_error(pm, t.topic(), pr, missing_replica(pm, t.topic(), p.partition()));
        continue;
      }
      op->remaining.fetch_add(1, std::memory_order_relaxed);
      if (!op->wait) {
        // The response is already sent (below): touch nothing of it.
        part->produce(std::move(*p.mutable_records()), acks, timeout_ms,
                      [op](produce_result) { op->release(); });
        continue;
      }
      // pr points into op->response, which lives until the last release().
      part->produce(std::move(*p.mutable_records()), acks, timeout_ms,
                    [&pm, op, pr, topic = t.topic()](produce_result r) {
                      pr->set_log_start_offset(r.log_start_offset);
                      if (r.status.ok()) {
                        pr->set_base_offset(r.base_offset);
                      } else {
                        set_partition_error(pm, topic, pr, std::move(r.status));
                      }
                      op->release();
                    });
    }
  }
  // ACKS_NONE: answer now (errors found so far included), append in the
  // background. Partition callbacks leave the response alone in this mode.
  if (!op->wait) op->done(op->response);
  op->release();
}

}  // namespace

void produce_request(partition_manager& pm, v1::ProduceRequest req,
                     std::function<void(v1::ProduceResponse)> done) {
  auto op = std::make_shared<produce_op>();
  op->done = std::move(done);
  if (req.acks() < v1::ACKS_UNSPECIFIED || req.acks() > v1::ACKS_ALL) {
    // Unknown enum values arrive as their number: answer each partition.
    v1::ProduceResponse resp;
    resp.set_correlation_id(req.correlation_id());
    for (const auto& t : req.topics()) {
      auto* tr = resp.add_topics();
      tr->set_topic(t.topic());
      for (const auto& p : t.partitions()) {
        auto* pr = tr->add_partitions();
        pr->set_partition(p.partition());
        set_error(pr, error(errc::invalid_required_acks,
                            "acks " + std::to_string(int(req.acks())) + " is not an Acks value"));
      }
    }
    op->done(std::move(resp));
    return;
  }
  bool needs_create = false;
  if (pm.config().auto_create_topics) {
    for (const auto& t : req.topics()) {
      if (validate_topic_name(t.topic()).ok() && !pm.topic(t.topic())) needs_create = true;
    }
  }
  if (!needs_create) return dispatch(pm, std::move(req), std::move(op));
  // Creating a topic writes metadata (fsync): off the gRPC thread.
  run_blocking(pm, [&pm, req = std::move(req), op = std::move(op)]() mutable {
    for (const auto& t : req.topics()) (void)pm.auto_create(t.topic());
    dispatch(pm, std::move(req), std::move(op));
  });
}

grpc::ServerUnaryReactor* broker_service::Produce(grpc::CallbackServerContext* ctx,
                                                  const v1::ProduceRequest* req,
                                                  v1::ProduceResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::produce);
  if (pm_.shutting_down()) {
    timer.finish(reactor, grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
    return reactor;
  }
  // The copy gives the partitions records they own (the request dies with
  // the call, and appends outlive it under ACKS_NONE).
  produce_request(pm_, *req, [reactor, resp, timer](v1::ProduceResponse r) {
    *resp = std::move(r);
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
