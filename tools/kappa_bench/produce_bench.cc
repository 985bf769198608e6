// `kappa-bench produce`: N producers send num_records records of record_size
// bytes (optionally throttled), as kafka-producer-perf-test does; latency is
// send() to acknowledgement.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "kappa/admin.h"
#include "kappa/producer.h"
#include "tools/kappa_bench/client_bench.h"
#include "tools/kappa_bench/client_progress.h"
#include "tools/kappa_bench/grpc_baseline.h"

namespace kappa::bench {
namespace {

client_config client_of(const client_bench_options& o) {
  client_config c;
  c.bootstrap = o.bootstrap;
  c.request_timeout_ms = o.timeout_ms;
  return c;
}

// Incompressible-looking bytes, the same for every record (compression is
// off, so content does not change the cost).
std::string make_value(size_t bytes) {
  std::string v(bytes, '\0');
  uint32_t x = 2463534242u;
  for (char& c : v) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return v;
}

}  // namespace

Status ensure_topic(const client_bench_options& o) {
  auto a = admin::create(client_of(o));
  if (!a.ok()) return a.status();
  new_topic t{o.topic, o.partitions, 0, o.topic_configs};
  auto r = (*a)->create_topics({t});
  if (!r.ok()) return r.status();
  for (const topic_status& s : *r) {
    if (!s.status.ok() && s.status.code() != client_errc::topic_already_exists) {
      return Status(s.status.code(),
                    "cannot create topic '" + o.topic + "': " + s.status.message());
    }
  }
  return Status();
}

Status run_produce_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human) {
  r.workload = "produce";
  KAPPA_RETURN_IF_ERROR(ensure_topic(o));
  producer_config pc;
  pc.client = client_of(o);
  pc.required_acks = o.acks == "0" ? acks::none : o.acks == "1" ? acks::leader : acks::all;
  pc.idempotence = o.idempotence && pc.required_acks != acks::none;
  pc.linger_ms = o.linger_ms;
  pc.batch_bytes = o.batch_bytes;
  pc.buffer_bytes = std::max<size_t>(size_t{64} << 20, 8 * o.batch_bytes);
  std::vector<std::unique_ptr<producer>> producers;
  for (int i = 0; i < o.producers; ++i) {
    auto p = producer::create(pc);
    if (!p.ok()) return p.status();
    producers.push_back(std::move(*p));
  }
  const std::string value = make_value(o.record_size);
  std::atomic<uint64_t> acked{0}, failed{0};
  std::mutex error_mu;
  Status first_error;
  {
    progress_meter meter(human, "sent", o.progress_interval_s, true);
    stopwatch clock;
    std::vector<std::thread> threads;
    for (int i = 0; i < o.producers; ++i) {
      uint64_t n =
          o.num_records / o.producers + (uint64_t(i) < o.num_records % o.producers ? 1 : 0);
      threads.emplace_back([&, i, n] {
        // Throttle: record k of this producer is due at k / rate seconds.
        double rate = o.throughput > 0 ? o.throughput / o.producers : 0;
        auto start = std::chrono::steady_clock::now();
        for (uint64_t k = 0; k < n; ++k) {
          if (failed.load(std::memory_order_relaxed) > 0)
            return;  // stop early on the first failure
          if (rate > 0)
            std::this_thread::sleep_until(start + std::chrono::duration<double>(k / rate));
          int64_t sent_us = steady_now_us();
          producer_record rec;
          rec.topic = o.topic;
          rec.value = value;
          producers[i]->send(std::move(rec), [&, sent_us](const delivery_report& d) {
            if (!d.ok()) {
              if (failed.fetch_add(1) == 0) {
                std::lock_guard lock(error_mu);
                first_error = d.status;
              }
              return;
            }
            int64_t us = steady_now_us() - sent_us;
            r.latency.record_us(us);
            meter.add_latency_us(us);
            meter.add(1, o.record_size);
            acked.fetch_add(1, std::memory_order_relaxed);
          });
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& p : producers) {
      Status st = p->flush(o.timeout_ms * 4);
      if (!st.ok() && first_error.ok()) first_error = st;
    }
    r.seconds = clock.seconds();
    // Closed while the meter and counters the callbacks use are alive: a
    // record still pending fails now, not later.
    for (auto& p : producers) (void)p->close(0);
  }
  if (failed.load() > 0 || !first_error.ok()) {
    std::lock_guard lock(error_mu);
    return Status(first_error.code(), std::to_string(failed.load()) +
                                          " records failed; first: " + first_error.message());
  }
  r.records = acked.load();
  r.bytes = r.records * o.record_size;
  if (o.baseline) {
    // The same bytes in messages of one producer batch each (as many whole
    // records as fit in --batch-bytes), over one stream per producer.
    size_t per_batch = std::max<size_t>(1, o.batch_bytes / std::max<size_t>(1, o.record_size));
    r.baseline_message_bytes = std::min<size_t>(per_batch * o.record_size, size_t{4} << 20);
    r.baseline_messages = std::max<uint64_t>(1, r.bytes / r.baseline_message_bytes);
    auto b = grpc_upload_baseline(r.baseline_message_bytes, r.baseline_messages, o.producers);
    if (!b.ok()) return b.status();
    r.baseline = *b;
  }
  return Status();
}

}  // namespace kappa::bench
