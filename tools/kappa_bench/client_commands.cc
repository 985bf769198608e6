// CLI wiring of `kappa-bench produce`, `consume` and `e2e`; the work is in
// produce_bench.cc, consume_bench.cc and e2e_bench.cc.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tools/kappa_bench/client_bench.h"
#include "tools/kappa_bench/commands.h"

namespace kappa::bench {
namespace {

using runner = Status (*)(const client_bench_options&, client_bench_results&, std::FILE*);

struct cli_state {
  client_bench_options o;
  std::vector<std::string> configs;
};

// Options every client workload takes.
void add_common(CLI::App* cmd, cli_state& s) {
  const char* env = std::getenv("KAPPA_BOOTSTRAP");
  if (env && *env) s.o.bootstrap = env;
  cmd->add_option("--bootstrap,-b", s.o.bootstrap,
                  "Broker host:port (default $KAPPA_BOOTSTRAP, else 127.0.0.1:9092)");
  cmd->add_option("--topic", s.o.topic, "Topic (default kappa-bench)");
  cmd->add_option("--num-records", s.o.num_records, "Records to send or read")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--timeout-ms", s.o.timeout_ms, "Longest wait for the broker (default 30000)")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  cmd->add_option("--progress-interval", s.o.progress_interval_s,
                  "Seconds between progress lines (default 5)")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_flag("--json", s.o.json,
                "Print the results as one JSON object on stdout (human lines go to stderr)");
}

void add_producer_options(CLI::App* cmd, cli_state& s) {
  cmd->add_option("--record-size", s.o.record_size, "Value bytes per record (default 1024)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  cmd->add_option("--acks", s.o.acks, "0, 1 (default) or all")
      ->check(CLI::IsMember({"0", "1", "all"}));
  cmd->add_option("--batch-bytes", s.o.batch_bytes, "Producer batch size (default 64KiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(size_t{1} << 10, size_t{16} << 20));
  cmd->add_option("--linger-ms", s.o.linger_ms, "Producer linger (default 5)")
      ->check(CLI::Range(int64_t{0}, int64_t{10000}));
  cmd->add_option("--partitions", s.o.partitions,
                  "Partitions when the topic is created (default 1)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--idempotence", s.o.idempotence,
                  "Sequence-numbered, deduplicated batches: true (default, as libkappa) or false")
      ->default_str("true");
  cmd->add_option("--topic-config", s.configs,
                  "key=value config when the topic is created, e.g. flush.policy=interval");
}

void wire(CLI::App* cmd, std::shared_ptr<cli_state> s, runner run, int& exit_code) {
  cmd->callback([s, run, &exit_code, cmd] {
    for (const std::string& kv : s->configs) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "kappa-bench %s: --topic-config must be key=value, got '%s'\n",
                     cmd->get_name().c_str(), kv.c_str());
        exit_code = 2;
        return;
      }
      s->o.topic_configs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::FILE* human = s->o.json ? stderr : stdout;
    client_bench_results r;
    Status st = run(s->o, r, human);
    if (!st.ok()) {
      std::string line = st.message();
      for (char& c : line) c = c == '\n' ? ' ' : c;
      std::fprintf(stderr, "kappa-bench %s: %s\n", cmd->get_name().c_str(), line.c_str());
      exit_code = 1;
      return;
    }
    print_final_line(r, human);
    if (s->o.json) std::printf("%s\n", client_results_json(s->o, r).c_str());
    exit_code = 0;
  });
}

}  // namespace

void add_client_commands(CLI::App& root, int& exit_code) {
  auto p = std::make_shared<cli_state>();
  CLI::App* produce =
      root.add_subcommand("produce", "Producer throughput and send-to-ack latency against kappad");
  add_common(produce, *p);
  add_producer_options(produce, *p);
  produce->add_option("--throughput", p->o.throughput,
                      "Records/s over all producers; -1 = unthrottled (default)");
  produce
      ->add_option("--producers", p->o.producers, "Producer instances, one thread each (default 1)")
      ->check(CLI::Range(1, 64));
  produce->add_flag(
      "--baseline", p->o.baseline,
      "Also stream the same bytes (one message per producer batch) over raw gRPC into a null "
      "sink in this process, and print the broker's MB/s as a ratio of it");
  produce->footer(
      "Creates the topic when missing (--partitions, --topic-config). Latency is send() to\n"
      "acknowledgement. Exit: 0 ok, 1 the run failed (one line on stderr), 2 usage error.");
  wire(produce, p, run_produce_bench, exit_code);

  auto c = std::make_shared<cli_state>();
  c->o.num_records = uint64_t{1} << 40;  // default: everything up to the high watermark
  CLI::App* consume =
      root.add_subcommand("consume", "Replay a topic from the beginning with libkappa's consumer");
  add_common(consume, *c);
  consume->add_flag(
      "--baseline", c->o.baseline,
      "Also stream the same bytes over raw gRPC out of a null source in this process, and print "
      "the broker's MB/s as a ratio of it");
  consume
      ->add_option("--baseline-message-bytes", c->o.baseline_download_message_bytes,
                   "Bytes per baseline message (default 1MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(size_t{1} << 10, size_t{4} << 20));
  consume->footer(
      "Reads every partition from its log start to its high watermark as of start\n"
      "(or --num-records). MB/s counts key and value bytes.");
  wire(consume, c, run_consume_bench, exit_code);

  auto e = std::make_shared<cli_state>();
  e->o.throughput = 5000;
  e->o.num_records = 50000;
  CLI::App* e2e =
      root.add_subcommand("e2e", "End-to-end latency (send to receive) at a fixed rate");
  add_common(e2e, *e);
  add_producer_options(e2e, *e);
  e2e->add_option("--throughput", e->o.throughput, "Records/s (default 5000)")
      ->check(CLI::Range(1.0, 1e7));
  e2e->footer(
      "One producer and one consumer in this process; the consumer starts at the end.\n"
      "Each value starts with the send time; latency = receive time - send time.");
  wire(e2e, e, run_e2e_bench, exit_code);
}

}  // namespace kappa::bench
