// `kappactl consume TOPIC`: print records through libkappa's consumer, from
// a chosen start (beginning, end, an offset, a time) up to the high
// watermark as of start, or on and on with --follow.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "kappa/consumer.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"
#include "tools/kappactl/record_format.h"

namespace kappa::kappactl {
namespace {

constexpr int64_t kPollMs = 200;

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

struct consume_options {
  broker_options broker;
  std::string topic;
  std::string from = "beginning";
  std::optional<int32_t> partition;
  std::optional<uint64_t> count;
  bool follow = false;
  std::string format = "%v\\n";
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Moves every partition to where --from says.
Status seek_all(consumer& c, const std::vector<topic_partition>& tps, const std::string& from,
                const std::map<int32_t, partition_description>& parts) {
  if (from == "beginning") return c.seek_to_beginning(tps);
  if (from == "end") return c.seek_to_end(tps);
  if (std::optional<int64_t> n = parse_int(from)) {
    for (const topic_partition& tp : tps) {
      const partition_description& p = parts.at(tp.partition);
      // -N: the last N records of each partition, as kcat's -o -N.
      int64_t offset = *n >= 0 ? *n : std::max(p.log_start_offset, p.high_watermark + *n);
      KAPPA_RETURN_IF_ERROR(c.seek(tp, offset));
    }
    return Status();
  }
  auto ms = parse_iso8601_ms(from);
  if (!ms.ok()) {
    return client_error(
        client_errc::invalid_argument,
        "--from must be beginning, end, an offset or an ISO-8601 time: " + ms.status().message());
  }
  return c.seek_to_timestamp(tps, *ms);
}

int run_consume(const consume_options& o) {
  const std::string cmd = "consume";
  record_format format(o.format);
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto topic = describe_topic(**a, o.topic);
  if (!topic.ok()) return fail(cmd, topic.status());
  std::map<int32_t, partition_description> parts;
  for (const partition_description& p : topic->partitions) parts[p.partition] = p;
  std::vector<topic_partition> tps;
  if (o.partition) {
    if (!parts.count(*o.partition)) {
      return fail(cmd, "topic '" + o.topic + "' has no partition " + std::to_string(*o.partition) +
                           " (it has " + std::to_string(parts.size()) + ")");
    }
    tps.push_back({o.topic, *o.partition});
  } else {
    for (const auto& [p, d] : parts) tps.push_back({o.topic, p});
  }

  consumer_config cc;
  cc.client = make_client_config(o.broker);
  cc.auto_offset_reset =
      offset_reset::none;  // a position out of range is an error, not a silent jump
  auto c = consumer::create(cc);
  if (!c.ok()) return fail(cmd, c.status());
  if (Status st = (*c)->assign(tps); !st.ok()) return fail(cmd, st);
  if (Status st = seek_all(**c, tps, o.from, parts); !st.ok()) return fail(cmd, st);

  // Without --follow each partition is read up to its high watermark as of
  // start (the describe answer) and no further.
  std::map<int32_t, bool> done;
  for (const topic_partition& tp : tps) {
    auto pos = (*c)->position(tp);
    if (!pos.ok()) return fail(cmd, pos.status());
    done[tp.partition] = !o.follow && *pos >= parts[tp.partition].high_watermark;
  }
  auto all_done = [&] {
    for (const auto& [p, d] : done) {
      if (!d) return false;
    }
    return true;
  };

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  uint64_t printed = 0;
  int64_t last_progress_ms = now_ms();
  // Bounded without --follow: no record and no position change for this
  // long means the broker stopped answering.
  const int64_t idle_limit_ms = std::max<int64_t>(3 * o.broker.timeout_ms, 10000);
  std::string out;
  while (!g_stop.load() && !(o.count && printed >= *o.count) && !(!o.follow && all_done())) {
    auto records = (*c)->poll(kPollMs);
    if (!records.ok()) return fail(cmd, records.status());
    out.clear();
    for (const consumed_record& r : *records) {
      if (o.count && printed >= *o.count) break;
      if (!o.follow && r.offset >= parts[r.partition].high_watermark) continue;
      format.append(r, out);
      ++printed;
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
    if (!records->empty()) last_progress_ms = now_ms();
    if (!o.follow) {
      for (auto& [p, d] : done) {
        if (d) continue;
        auto pos = (*c)->position({o.topic, p});
        if (!pos.ok()) return fail(cmd, pos.status());
        if (*pos >= parts[p].high_watermark) {
          d = true;
          last_progress_ms = now_ms();
        }
      }
      if (!all_done() && now_ms() - last_progress_ms > idle_limit_ms) {
        return fail(cmd, "no records for " + std::to_string(idle_limit_ms) +
                             " ms before the high watermark was reached");
      }
    }
  }
  (*c)->close();
  return kExitOk;
}

}  // namespace

void add_consume_command(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<consume_options>();
  CLI::App* cmd = root.add_subcommand("consume", "Print records of a topic");
  add_broker_options(*cmd, o->broker);
  cmd->add_option("topic", o->topic, "Topic to read")->required();
  cmd->add_option(
      "--from,-f", o->from,
      "beginning (default), end, an offset (-N: the last N), or an ISO-8601 time such as "
      "2026-11-22T10:00:00Z (first record at or after it)");
  cmd->add_option("--partition,-p", o->partition, "Read only this partition (default: all)");
  cmd->add_option("--count,-c", o->count, "Stop after N records");
  cmd->add_flag(
      "--follow,-F", o->follow,
      "Keep waiting for new records (Ctrl-C stops); without it, stop at the high watermark "
      "as of start");
  cmd->add_option("--format", o->format, "Output format (default '%v\\n'), see below");
  cmd->footer(
      "Format (as kcat's): %t topic, %p partition, %o offset, %T timestamp (ms), %k key, %v "
      "value,\n"
      "%h headers (k1=v1,k2=v2), %K key length, %S value length, %% percent; escapes \\n \\t \\r "
      "\\\\.\n"
      "Records of different partitions interleave; each partition's are in offset order.");
  cmd->callback([o, &exit_code] { exit_code = run_consume(*o); });
}

}  // namespace kappa::kappactl
