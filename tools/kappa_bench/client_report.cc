// Final lines and JSON of the client benchmarks. The final line follows
// kafka-producer-perf-test ("N records sent, R records/sec (M MB/sec), A ms
// avg latency, X ms max latency, P50 ms 50th, ...") with MB = 10^6 bytes.
#include <string>

#include "tools/common/output.h"
#include "tools/kappa_bench/client_bench.h"

namespace kappa::bench {
namespace {

using tools::fixed;

const char* verb(const std::string& workload) {
  return workload == "produce" ? "sent" : workload == "consume" ? "read" : "received";
}

}  // namespace

void print_final_line(const client_bench_results& r, std::FILE* out) {
  const latency_histogram& l = r.latency;
  if (r.workload == "consume") {
    std::fprintf(out, "%llu records read, %.1f records/sec (%.2f MB/sec), %.3f s.\n",
                 static_cast<unsigned long long>(r.records), r.records_per_s(), r.mb_per_s(),
                 r.seconds);
  } else {
    std::fprintf(out,
                 "%llu records %s, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms "
                 "max latency, "
                 "%.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.\n",
                 static_cast<unsigned long long>(r.records), verb(r.workload), r.records_per_s(),
                 r.mb_per_s(), l.mean_ms(), l.max_ms(), l.percentile_ms(0.50),
                 l.percentile_ms(0.95), l.percentile_ms(0.99), l.percentile_ms(0.999));
  }
  if (r.baseline) {
    std::fprintf(out,
                 "raw gRPC %s baseline: %llu messages of %zu bytes, %.2f MB/sec; broker = %.2fx "
                 "the baseline.\n",
                 r.workload == "consume" ? "download" : "upload",
                 static_cast<unsigned long long>(r.baseline_messages), r.baseline_message_bytes,
                 r.baseline->mb_per_s(), r.ratio());
  }
  std::fflush(out);
}

std::string client_results_json(const client_bench_options& o, const client_bench_results& r) {
  const latency_histogram& l = r.latency;
  std::string j = "{\"workload\":" + tools::json_string(r.workload) +
                  ",\"config\":{\"topic\":" + tools::json_string(o.topic) +
                  ",\"num_records\":" + std::to_string(o.num_records) +
                  ",\"record_size\":" + std::to_string(o.record_size) +
                  ",\"throughput\":" + fixed(o.throughput, 1) +
                  ",\"acks\":" + tools::json_string(o.acks) +
                  ",\"batch_bytes\":" + std::to_string(o.batch_bytes) +
                  ",\"linger_ms\":" + std::to_string(o.linger_ms) +
                  ",\"partitions\":" + std::to_string(o.partitions) +
                  ",\"producers\":" + std::to_string(o.producers) +
                  ",\"idempotence\":" + (o.idempotence ? "true" : "false") + "}";
  j += ",\"records\":" + std::to_string(r.records) + ",\"bytes\":" + std::to_string(r.bytes) +
       ",\"seconds\":" + fixed(r.seconds, 6) +
       ",\"records_per_sec\":" + fixed(r.records_per_s(), 1) +
       ",\"mb_per_sec\":" + fixed(r.mb_per_s(), 3);
  if (r.workload != "consume") {
    j += ",\"latency_ms\":{\"avg\":" + fixed(l.mean_ms(), 3) +
         ",\"p50\":" + fixed(l.percentile_ms(0.50), 3) +
         ",\"p95\":" + fixed(l.percentile_ms(0.95), 3) +
         ",\"p99\":" + fixed(l.percentile_ms(0.99), 3) +
         ",\"p99_9\":" + fixed(l.percentile_ms(0.999), 3) + ",\"max\":" + fixed(l.max_ms(), 3) +
         "}";
  }
  if (r.baseline) {
    j += ",\"baseline\":{\"kind\":" +
         tools::json_string(r.workload == "consume" ? "download" : "upload") +
         ",\"messages\":" + std::to_string(r.baseline_messages) +
         ",\"message_bytes\":" + std::to_string(r.baseline_message_bytes) +
         ",\"bytes\":" + std::to_string(r.baseline->bytes) +
         ",\"seconds\":" + fixed(r.baseline->seconds, 6) +
         ",\"mb_per_sec\":" + fixed(r.baseline->mb_per_s(), 3) +
         "},\"ratio_to_baseline\":" + fixed(r.ratio(), 3);
  }
  return j + "}";
}

}  // namespace kappa::bench
