// `kappa-bench consume`: replay a topic from the beginning with one libkappa
// consumer, up to the high watermark as of start (or --num-records).
#include <map>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "tools/kappa_bench/client_bench.h"
#include "tools/kappa_bench/client_progress.h"
#include "tools/kappa_bench/grpc_baseline.h"

namespace kappa::bench {

Status run_consume_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human) {
  r.workload = "consume";
  client_config cc;
  cc.bootstrap = o.bootstrap;
  cc.request_timeout_ms = o.timeout_ms;
  auto a = admin::create(cc);
  if (!a.ok()) return a.status();
  auto d = (*a)->describe_topics({o.topic});
  if (!d.ok()) return d.status();
  if (d->size() != 1 || !(*d)[0].status.ok()) {
    return client_error(
        client_errc::unknown_topic_or_partition,
        "topic '" + o.topic + "': " + (d->empty() ? "not found" : (*d)[0].status.message()));
  }
  std::map<int32_t, int64_t> end;  // high watermark at start
  uint64_t available = 0;
  std::vector<topic_partition> tps;
  for (const partition_description& p : (*d)[0].partitions) {
    end[p.partition] = p.high_watermark;
    available += static_cast<uint64_t>(p.high_watermark - p.log_start_offset);
    tps.push_back({o.topic, p.partition});
  }
  const uint64_t want = std::min(o.num_records, available);
  if (want == 0)
    return client_error(client_errc::invalid_argument, "topic '" + o.topic + "' is empty");

  consumer_config conf;
  conf.client = cc;
  conf.auto_offset_reset = offset_reset::earliest;
  auto c = consumer::create(conf);
  if (!c.ok()) return c.status();
  KAPPA_RETURN_IF_ERROR((*c)->assign(tps));
  KAPPA_RETURN_IF_ERROR((*c)->seek_to_beginning(tps));
  {
    progress_meter meter(human, "read", o.progress_interval_s, false);
    stopwatch clock;
    stopwatch idle;
    while (r.records < want) {
      auto records = (*c)->poll(100);
      if (!records.ok()) return records.status();
      if (records->empty() && idle.seconds() * 1000 > o.timeout_ms) {
        return client_error(client_errc::timeout, "no records for " + std::to_string(o.timeout_ms) +
                                                      " ms after " + std::to_string(r.records) +
                                                      " of " + std::to_string(want));
      }
      if (!records->empty()) idle = stopwatch();
      if (records->empty()) {
        // Offsets held by control batches are never returned as records:
        // the replay is over when every position has reached its end.
        bool all = true;
        for (const topic_partition& tp : tps) {
          auto pos = (*c)->position(tp);
          if (!pos.ok()) return pos.status();
          all = all && *pos >= end[tp.partition];
        }
        if (all) break;
      }
      uint64_t n = 0, bytes = 0;
      for (const consumed_record& rec : *records) {
        if (rec.offset >= end[rec.partition]) continue;
        ++n;
        bytes += (rec.value ? rec.value->size() : 0) + (rec.key ? rec.key->size() : 0);
      }
      r.records += n;
      r.bytes += bytes;
      meter.add(n, bytes);
    }
    r.seconds = clock.seconds();
  }
  (*c)->close();
  if (o.baseline) {
    r.baseline_message_bytes = o.baseline_download_message_bytes;
    r.baseline_messages = std::max<uint64_t>(1, r.bytes / r.baseline_message_bytes);
    auto b = grpc_download_baseline(r.baseline_message_bytes, r.baseline_messages, 1);
    if (!b.ok()) return b.status();
    r.baseline = *b;
  }
  return Status();
}

}  // namespace kappa::bench
