// `kappa-bench e2e`: end-to-end latency at a fixed rate. A producer stamps
// its send time (steady clock, microseconds) into the first 8 bytes of each
// value; a consumer in the same process, positioned at the end before the
// first send, measures receive time minus that stamp.
#include <atomic>
#include <cstring>
#include <thread>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "kappa/producer.h"
#include "tools/kappa_bench/client_bench.h"
#include "tools/kappa_bench/client_progress.h"

namespace kappa::bench {

Status run_e2e_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human) {
  r.workload = "e2e";
  if (o.record_size < sizeof(int64_t)) {
    return client_error(client_errc::invalid_argument,
                        "e2e needs --record-size >= 8 (the send-time stamp)");
  }
  KAPPA_RETURN_IF_ERROR(ensure_topic(o));
  client_config cc;
  cc.bootstrap = o.bootstrap;
  cc.request_timeout_ms = o.timeout_ms;
  auto a = admin::create(cc);
  if (!a.ok()) return a.status();
  auto d = (*a)->describe_topics({o.topic});
  if (!d.ok()) return d.status();
  if (d->size() != 1 || !(*d)[0].status.ok()) {
    return client_error(client_errc::unknown_topic_or_partition,
                        "topic '" + o.topic + "' cannot be described");
  }
  std::vector<topic_partition> tps;
  for (const partition_description& p : (*d)[0].partitions) tps.push_back({o.topic, p.partition});

  consumer_config conf;
  conf.client = cc;
  conf.fetch_max_wait_ms = 100;  // long-poll wakes on append; this only bounds an idle fetch
  auto c = consumer::create(conf);
  if (!c.ok()) return c.status();
  KAPPA_RETURN_IF_ERROR((*c)->assign(tps));
  KAPPA_RETURN_IF_ERROR((*c)->seek_to_end(tps));
  for (const topic_partition& tp : tps) {
    auto pos = (*c)->position(tp);  // resolve now, so the first records are not missed
    if (!pos.ok()) return pos.status();
  }

  producer_config pc;
  pc.client = cc;
  pc.required_acks = o.acks == "0" ? acks::none : o.acks == "1" ? acks::leader : acks::all;
  pc.idempotence = o.idempotence && pc.required_acks != acks::none;
  pc.linger_ms = o.linger_ms;
  pc.batch_bytes = o.batch_bytes;
  auto p = producer::create(pc);
  if (!p.ok()) return p.status();

  const double rate = o.throughput > 0 ? o.throughput : 5000;
  std::atomic<uint64_t> failed{0};
  Status consume_error;
  {
    progress_meter meter(human, "received", o.progress_interval_s, true);
    stopwatch clock;
    std::thread reader([&] {
      stopwatch idle;
      while (r.records < o.num_records) {
        auto records = (*c)->poll(50);
        int64_t now = steady_now_us();
        if (!records.ok()) {
          consume_error = records.status();
          return;
        }
        if (!records->empty()) idle = stopwatch();
        if (idle.seconds() * 1000 > o.timeout_ms || failed.load() > 0) {
          if (consume_error.ok()) {
            consume_error = client_error(client_errc::timeout,
                                         "received " + std::to_string(r.records) + " of " +
                                             std::to_string(o.num_records) + " records");
          }
          return;
        }
        for (const consumed_record& rec : *records) {
          if (!rec.value || rec.value->size() < sizeof(int64_t)) continue;
          int64_t sent_us = 0;
          std::memcpy(&sent_us, rec.value->data(), sizeof sent_us);
          r.latency.record_us(now - sent_us);
          meter.add_latency_us(now - sent_us);
          meter.add(1, rec.value->size());
          ++r.records;
          r.bytes += rec.value->size();
        }
      }
    });
    std::string value(o.record_size, 'v');
    auto start = std::chrono::steady_clock::now();
    for (uint64_t k = 0; k < o.num_records && failed.load() == 0; ++k) {
      std::this_thread::sleep_until(start + std::chrono::duration<double>(k / rate));
      int64_t sent_us = steady_now_us();
      std::memcpy(value.data(), &sent_us, sizeof sent_us);
      producer_record rec;
      rec.topic = o.topic;
      rec.value = value;
      (*p)->send(std::move(rec), [&](const delivery_report& dr) {
        if (!dr.ok()) failed.fetch_add(1);
      });
    }
    Status flushed = (*p)->flush(o.timeout_ms * 4);
    reader.join();
    r.seconds = clock.seconds();
    (void)(*p)->close(0);
    if (!flushed.ok()) return flushed;
  }
  (*c)->close();
  if (failed.load() > 0)
    return client_error(client_errc::unknown_server_error,
                        std::to_string(failed.load()) + " sends failed");
  return consume_error;
}

}  // namespace kappa::bench
