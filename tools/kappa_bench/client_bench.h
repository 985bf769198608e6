// The broker benchmarks of kappa-bench, run through libkappa against a
// running kappad: `produce` (throughput and send-to-ack latency), `consume`
// (replay of a topic from the beginning), `e2e` (send-to-receive latency at
// a fixed rate). With --baseline, produce and consume also measure raw gRPC
// streaming of the same bytes (grpc_baseline.h) and report the broker's
// throughput as a ratio of it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "proto/format/result.h"
#include "tools/kappa_bench/bench_util.h"
#include "tools/kappa_bench/latency_histogram.h"

namespace kappa::bench {

struct client_bench_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "kappa-bench";
  uint64_t num_records = 100000;
  size_t record_size = 1024;
  double throughput = -1;  // records/s over all producers; -1 = unthrottled
  std::string acks = "1";
  size_t batch_bytes = size_t{64} << 10;
  int64_t linger_ms = 5;
  int32_t partitions = 1;  // when the topic is created
  int producers = 1;
  bool idempotence = true;  // libkappa's default; off only matters for acks 1/all
  std::map<std::string, std::string> topic_configs;  // when the topic is created
  bool baseline = false;
  size_t baseline_download_message_bytes = size_t{1} << 20;
  bool json = false;
  double progress_interval_s = 5.0;
  int64_t timeout_ms = 30000;
};

// What one run measured. Latency: produce = send() to acknowledgement;
// e2e = send() to the consumer's poll() returning it; consume has none.
struct client_bench_results {
  std::string workload;
  uint64_t records = 0;
  uint64_t bytes = 0;  // record value bytes (keys are null)
  double seconds = 0;
  latency_histogram latency;
  std::optional<throughput> baseline;
  size_t baseline_message_bytes = 0;
  uint64_t baseline_messages = 0;
  double records_per_s() const { return seconds > 0 ? records / seconds : 0; }
  double mb_per_s() const { return seconds > 0 ? bytes / kMB / seconds : 0; }
  double ratio() const {
    return baseline && baseline->mb_per_s() > 0 ? mb_per_s() / baseline->mb_per_s() : 0;
  }
};

// Each prints progress lines on `human` every progress_interval_s.
Status run_produce_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human);
Status run_consume_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human);
Status run_e2e_bench(const client_bench_options& o, client_bench_results& r, std::FILE* human);

// Creates the topic when it does not exist (partitions, topic_configs).
Status ensure_topic(const client_bench_options& o);

// The final line, kafka-producer-perf-test style, and the JSON object.
void print_final_line(const client_bench_results& r, std::FILE* out);
std::string client_results_json(const client_bench_options& o, const client_bench_results& r);

}  // namespace kappa::bench
