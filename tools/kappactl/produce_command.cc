// `kappactl produce TOPIC`: one record per stdin line, through libkappa's
// producer. Exits 0 only once every line read is acknowledged at --acks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <deque>
#include <future>
#include <iostream>
#include <memory>
#include <string>

#include "kappa/producer.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

// A line longer than this is refused rather than buffered without bound
// (the broker's max.message.bytes default is 1 MiB).
constexpr size_t kMaxLineBytes = size_t{16} << 20;
// Reports awaited in line order; past this many pending, reading stdin
// waits for the oldest, so --verbose output stays in input order and
// memory stays bounded.
constexpr size_t kMaxPendingReports = 100000;

struct produce_options {
  broker_options broker;
  std::string topic;
  std::optional<std::string> key_separator;
  std::vector<std::string> headers;
  std::optional<int32_t> partition;
  std::string acks = "all";
  int64_t linger_ms = 5;
  bool verbose = false;
};

struct tally {
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  std::string first_error;
};

void settle(std::future<delivery_report>& f, uint64_t line, const produce_options& o, tally& t) {
  delivery_report r = f.get();
  if (!r.ok()) {
    if (t.failed++ == 0)
      t.first_error = "line " + std::to_string(line) + ": " + error_text(r.status);
    return;
  }
  ++t.acknowledged;
  if (o.verbose) {
    std::printf("partition %d offset %lld\n", r.partition, static_cast<long long>(r.offset));
  }
}

int run_produce(const produce_options& o) {
  const std::string cmd = "produce";
  auto header_map = parse_key_values(o.headers, "--header");
  if (!header_map.ok()) return fail(cmd, header_map.status());
  if (o.key_separator && o.key_separator->empty())
    return fail(cmd, "--key-separator must not be empty");
  // Ask first, so an unknown topic or a bad --partition is one clear line
  // instead of a send() that waits for metadata until it times out.
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto topic = describe_topic(**a, o.topic);
  if (!topic.ok()) return fail(cmd, topic.status());
  if (o.partition && (*o.partition < 0 || size_t(*o.partition) >= topic->partitions.size())) {
    return fail(cmd, "topic '" + o.topic + "' has no partition " + std::to_string(*o.partition) +
                         " (it has " + std::to_string(topic->partitions.size()) + ")");
  }

  producer_config pc;
  pc.client = make_client_config(o.broker);
  pc.required_acks = o.acks == "0" ? acks::none : o.acks == "1" ? acks::leader : acks::all;
  pc.idempotence = pc.required_acks != acks::none;
  pc.linger_ms = o.linger_ms;
  pc.max_block_ms = o.broker.timeout_ms;
  pc.delivery_timeout_ms = std::max<int64_t>(3 * o.broker.timeout_ms, 30000);
  auto p = producer::create(pc);
  if (!p.ok()) return fail(cmd, p.status());

  std::vector<header> headers;
  for (const auto& [k, v] : *header_map) headers.push_back({k, v});
  tally t;
  std::deque<std::pair<uint64_t, std::future<delivery_report>>> pending;
  uint64_t line_no = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.size() > kMaxLineBytes) {
      (void)(*p)->close();
      return fail(cmd, "line " + std::to_string(line_no) + " is longer than 16 MiB");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    producer_record r;
    r.topic = o.topic;
    r.partition = o.partition;
    r.headers = headers;
    size_t at = o.key_separator ? line.find(*o.key_separator) : std::string::npos;
    if (at != std::string::npos) {
      r.key = line.substr(0, at);
      r.value = line.substr(at + o.key_separator->size());
    } else {
      r.value = std::move(line);  // no separator on this line: a null key
    }
    pending.emplace_back(line_no, (*p)->send(std::move(r)));
    // Settle what is already done without waiting, to keep output flowing.
    while (!pending.empty() && (pending.size() > kMaxPendingReports ||
                                pending.front().second.wait_for(std::chrono::seconds(0)) ==
                                    std::future_status::ready)) {
      settle(pending.front().second, pending.front().first, o, t);
      pending.pop_front();
    }
  }
  Status flushed = (*p)->flush(pc.delivery_timeout_ms + o.broker.timeout_ms);
  for (auto& [n, f] : pending) {
    // flush() returned: every report is set, or it timed out and close()
    // below fails what is left with `closed`.
    if (!flushed.ok() && f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) break;
    settle(f, n, o, t);
  }
  Status closed = (*p)->close(0);
  std::fflush(stdout);
  if (t.failed > 0 || t.acknowledged < line_no) {
    std::string why =
        t.first_error.empty() ? error_text(flushed.ok() ? closed : flushed) : t.first_error;
    return fail(cmd, std::to_string(line_no - t.acknowledged) + " of " + std::to_string(line_no) +
                         " records not acknowledged; first error: " + why);
  }
  if (!o.verbose)
    std::fprintf(stderr, "produced %llu records to %s\n", static_cast<unsigned long long>(line_no),
                 o.topic.c_str());
  return kExitOk;
}

}  // namespace

void add_produce_command(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<produce_options>();
  CLI::App* cmd = root.add_subcommand("produce", "Produce one record per line of stdin");
  add_broker_options(*cmd, o->broker);
  cmd->add_option("topic", o->topic, "Topic to produce to")->required();
  cmd->add_option("--key-separator,-K", o->key_separator,
                  "Split each line at the first S into key and value (a line without S: null key)");
  cmd->add_option("--header,-H", o->headers, "Header key=value added to every record (repeatable)");
  cmd->add_option("--partition,-p", o->partition,
                  "Partition (default: by key, murmur2; sticky for no key)");
  cmd->add_option("--acks", o->acks,
                  "0 (do not wait), 1 (leader appended) or all (committed; default)")
      ->check(CLI::IsMember({"0", "1", "all"}));
  cmd->add_option("--linger-ms", o->linger_ms,
                  "How long a batch waits for more records (default 5)")
      ->check(CLI::Range(int64_t{0}, int64_t{60000}));
  cmd->add_flag("--verbose,-v", o->verbose,
                "Print 'partition P offset O' per line, in input order");
  cmd->footer(
      "Exits 0 only after every line read is acknowledged at --acks (with --acks 0: handed\n"
      "to the transport); otherwise exits 1 with one line on stderr naming the first error.");
  cmd->callback([o, &exit_code] { exit_code = run_produce(*o); });
}

}  // namespace kappa::kappactl
