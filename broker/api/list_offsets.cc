// ListOffsets: earliest (-2), latest (-1 = the high watermark) or the first
// offset at or after a timestamp. Answered by the leader only (elsewhere
// NOT_LEADER_OR_FOLLOWER whose message names the leader, or
// LEADER_NOT_AVAILABLE). Index lookups touch mapped files, so the
// work runs on the worker pool, not the gRPC thread.
#include "broker/api/leader_hint.h"
#include "broker/api/services.h"
#include "broker/errc.h"
#include "broker/runtime.h"
#include "broker/topic_name.h"
#include "proto/format/records.h"

namespace kappa::broker {
namespace {

constexpr int64_t kEarliest = -2;
constexpr int64_t kLatest = -1;

// The timestamp of the record at `offset`, or -1 when it cannot be read.
int64_t record_timestamp(partition& p, int64_t offset) {
  auto view = p.read(offset, 1);
  if (!view.ok() || view->batches.size() < format::kBatchHeaderBytes) return -1;
  const format::batch_header h = format::read_header(view->batches);
  if (h.size_bytes() > view->batches.size()) return -1;
  byte_buffer scratch;
  auto records = format::decode_records(view->batches.first(h.size_bytes()), scratch);
  if (!records.ok()) return -1;
  for (const auto& r : *records) {
    if (r.offset == offset) return r.timestamp;
  }
  return -1;
}

void answer(partition_manager& pm, const v1::ListOffsetsRequest& req, v1::ListOffsetsResponse& resp) {
  for (const auto& t : req.topics()) {
    auto* tr = resp.add_topics();
    tr->set_topic(t.topic());
    Status topic_error = validate_topic_name(t.topic());
    for (const auto& lp : t.partitions()) {
      auto* pr = tr->add_partitions();
      pr->set_partition(lp.partition());
      pr->set_offset(-1);
      pr->set_timestamp(-1);
      pr->set_leader_epoch(-1);
      auto fail = [&](const Status& st) {
        pr->set_error_code(to_error_code(st));
        pr->set_error_message(st.message());
        // ListOffsetsPartitionResponse has no LeaderHint field: the message
        // names the leader.
      };
      if (!topic_error.ok()) {
        fail(topic_error);
        continue;
      }
      auto p = pm.get(t.topic(), lp.partition());
      if (!p) {
        fail(missing_replica(pm, t.topic(), lp.partition()));
        continue;
      }
      if (Status st = check_leader(pm, t.topic(), lp.partition(), p.get()); !st.ok()) {
        fail(st);
        continue;
      }
      pr->set_leader_epoch(p->leader_epoch());
      if (lp.timestamp() == kEarliest) {
        pr->set_offset(p->log_start_offset());
      } else if (lp.timestamp() == kLatest) {
        pr->set_offset(p->high_watermark());
      } else if (lp.timestamp() < 0) {
        fail(error(errc::invalid_request, "timestamp must be -2 (earliest), -1 (latest) or >= 0, got " +
                                              std::to_string(lp.timestamp())));
      } else {
        auto off = p->offset_for_timestamp(lp.timestamp());
        if (!off.ok()) {
          fail(off.status());
        } else if (!*off) {
          pr->set_offset(p->high_watermark());  // past every record, as Kafka answers
        } else {
          pr->set_offset(**off);
          pr->set_timestamp(record_timestamp(*p, **off));
        }
      }
    }
  }
}

}  // namespace

grpc::ServerUnaryReactor* broker_service::ListOffsets(grpc::CallbackServerContext* ctx,
                                                      const v1::ListOffsetsRequest* req,
                                                      v1::ListOffsetsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  call_timer timer(pm_, api::list_offsets);
  asio::post(pm_.rt().workers, [this, reactor, req, resp, timer] {
    answer(pm_, *req, *resp);
    timer.finish(reactor, grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kappa::broker
