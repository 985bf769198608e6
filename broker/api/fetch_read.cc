#include "broker/api/fetch_read.h"

#include "broker/api/leader_hint.h"
#include "broker/errc.h"
#include "broker/topic_name.h"

namespace kappa::broker {

Status read_partition(partition& p, int64_t offset, size_t max_bytes, std::string* records,
                      int64_t* next_offset, v1::OffsetRange* range) {
  auto view = p.read(offset, std::max<size_t>(max_bytes, 1));
  if (!view.ok()) {
    if (view.status().code() == errc::offset_out_of_range) {
      range->set_log_start_offset(p.log_start_offset());
      range->set_high_watermark(p.high_watermark());
    }
    return view.status();
  }
  // One copy out of the mapped segment; view->keep_alive holds the mapping
  // until it is done.
  records->assign(reinterpret_cast<const char*>(view->batches.data()), view->batches.size());
  *next_offset = view->batches.empty() ? offset : view->next_offset;
  return Status();
}

Status check_leader_epoch(const partition& p, int32_t client_epoch) {
  // 0 is proto3's "unset" and never a leader's epoch (terms start at 1).
  if (client_epoch <= 0) return Status();
  const int32_t epoch = p.leader_epoch();
  if (client_epoch == epoch) return Status();
  const std::string msg = "leader epoch " + std::to_string(client_epoch) + " of " +
                          p.id().dir_name() + " is " +
                          (client_epoch > epoch ? "newer" : "older") + " than the broker's (" +
                          std::to_string(epoch) + ")";
  return Status(std::error_code(client_epoch > epoch ? int(v1::UNKNOWN_LEADER_EPOCH)
                                                     : int(v1::FENCED_LEADER_EPOCH),
                                error_category()),
                msg);
}

fetch_totals fill_fetch_response(partition_manager& pm, const v1::FetchRequest& req,
                                 v1::FetchResponse& resp) {
  fetch_totals totals;
  const size_t cap = pm.config().fetch_max_bytes;
  size_t budget = req.max_bytes() <= 0 ? cap : std::min(cap, size_t(req.max_bytes()));
  for (const auto& t : req.topics()) {
    auto* tr = resp.add_topics();
    tr->set_topic(t.topic());
    Status topic_error = validate_topic_name(t.topic());
    for (const auto& fp : t.partitions()) {
      auto* pr = tr->add_partitions();
      pr->set_partition(fp.partition());
      pr->set_high_watermark(-1);
      pr->set_log_start_offset(-1);
      auto fail = [&](const Status& st) {
        pr->set_error_code(to_error_code(st));
        pr->set_error_message(st.message());
        if (wants_leader_hint(st)) {
          set_leader_hint(pm, t.topic(), fp.partition(), pr->mutable_current_leader());
        }
        ++totals.errors;
      };
      if (!topic_error.ok()) {
        fail(topic_error);
        continue;
      }
      auto p = pm.get(t.topic(), fp.partition());
      if (!p) {
        fail(missing_replica(pm, t.topic(), fp.partition()));
        continue;
      }
      // Consumers read from leaders (Kafka's default): a follower's high
      // watermark may lag the leader's.
      if (Status st = check_leader(pm, t.topic(), fp.partition(), p.get()); !st.ok()) {
        fail(st);
        continue;
      }
      if (Status st = check_leader_epoch(*p, fp.current_leader_epoch()); !st.ok()) {
        fail(st);
        continue;
      }
      ++totals.partitions;
      pr->set_high_watermark(p->high_watermark());
      pr->set_log_start_offset(p->log_start_offset());
      size_t limit = fp.partition_max_bytes() <= 0 ? budget
                                                   : std::min(budget, size_t(fp.partition_max_bytes()));
      if (limit == 0 && totals.bytes > 0) continue;  // the request's budget is spent
      int64_t next = 0;
      Status st = read_partition(*p, fp.fetch_offset(), limit, pr->mutable_records(), &next,
                                 pr->mutable_valid_range());
      if (!st.ok()) {
        fail(st);
        continue;
      }
      const size_t n = pr->records().size();
      totals.bytes += n;
      budget -= std::min(budget, n);
    }
  }
  return totals;
}

}  // namespace kappa::broker
