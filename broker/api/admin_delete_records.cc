// DeleteRecords: moves partitions' log start offsets forward (on each
// partition's strand, on its leader); answers when every partition is done.
// A partition not hosted here answers NOT_LEADER_OR_FOLLOWER.
#include <atomic>

#include "broker/api/leader_hint.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

struct delete_op {
  std::atomic<int> remaining{1};  // +1 held by the dispatcher
  std::function<void()> done;
  void release() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done();
  }
};

}  // namespace

grpc::ServerUnaryReactor* admin_service::DeleteRecords(grpc::CallbackServerContext* ctx,
                                                       const v1::DeleteRecordsRequest* req,
                                                       v1::DeleteRecordsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::delete_records);
  auto op = std::make_shared<delete_op>();
  op->done = [reactor, timer] { timer.finish(reactor, grpc::Status::OK); };
  for (const auto& t : req->topics()) {
    auto* tr = resp->add_topics();
    tr->set_topic(t.topic());
    Status topic_error = validate_topic_name(t.topic());
    for (const auto& dp : t.partitions()) {
      auto* pr = tr->add_partitions();
      pr->set_partition(dp.partition());
      pr->set_low_watermark(-1);
      auto fail = [pr](const Status& st) {
        pr->set_error_code(to_error_code(st));
        pr->set_error_message(st.message());
      };
      auto p = topic_error.ok() ? pm_.get(t.topic(), dp.partition()) : nullptr;
      if (!topic_error.ok()) {
        fail(topic_error);
        continue;
      }
      if (!p) {
        // No replica here: the leader elsewhere does it (or the partition
        // does not exist).
        fail(missing_replica(pm_, t.topic(), dp.partition()));
        continue;
      }
      op->remaining.fetch_add(1);
      p->delete_records(dp.before_offset(), [op, pr, fail](Result<int64_t> r) {
        if (r.ok()) pr->set_low_watermark(*r);
        else fail(r.status());
        op->release();
      });
    }
  }
  op->release();
  return reactor;
}

}  // namespace kappa::broker
