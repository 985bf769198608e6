// `kappactl consume TOPIC`: print records through libkappa's consumer, from
// a chosen start (beginning, end, an offset, a time) up to the high
// watermark as of start, or on and on with --follow. With --group it joins
// the consumer group instead and reads whatever partitions it is assigned,
// committing as it goes, until --count or a signal.
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
  std::optional<std::string> group;
  int64_t commit_interval_ms = 1000;
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

std::string tp_list(const std::vector<topic_partition>& tps) {
  std::string out;
  for (const topic_partition& tp : tps) {
    out += (out.empty() ? "" : ",") + tp.topic + "-" + std::to_string(tp.partition);
  }
  return out;
}

// Group mode: the coordinator decides the partitions. Positions are
// committed every commit_interval_ms (auto-commit, from poll(), so only
// what was printed), before a partition is revoked, and once more at exit.
int run_group_consume(const consume_options& o) {
  const std::string cmd = "consume";
  if (o.partition)
    return fail(cmd, "--partition cannot be used with --group (the group assigns partitions)");
  offset_reset reset = offset_reset::earliest;
  if (o.from == "end") {
    reset = offset_reset::latest;
  } else if (o.from != "beginning") {
    return fail(
        cmd,
        "with --group, --from must be beginning or end (where partitions without a committed "
        "offset start)");
  }
  record_format format(o.format);
  consumer_config cc;
  cc.client = make_client_config(o.broker);
  cc.auto_offset_reset = reset;
  cc.enable_auto_commit = true;
  cc.auto_commit_interval_ms = o.commit_interval_ms;
  cc.client_id = "kappactl";
  auto c = consumer::create(cc);
  if (!c.ok()) return fail(cmd, c.status());
  auto print_change = [](const char* what) {
    return [what](consumer&, const std::vector<topic_partition>& tps) {
      if (tps.empty()) return;
      std::fprintf(stderr, "%s: %s\n", what, tp_list(tps).c_str());
      std::fflush(stderr);
    };
  };
  rebalance_listener listener;
  listener.on_assigned = print_change("assigned");
  listener.on_revoked = print_change("revoked");
  listener.on_lost = print_change("lost");
  if (Status st = (*c)->subscribe({o.topic}, *o.group, listener); !st.ok()) return fail(cmd, st);

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  uint64_t printed = 0;
  std::string out;
  // Records polled but not printed (--count reached mid-batch): each such
  // partition goes back to its first unprinted offset, so the final commit
  // covers exactly what was printed.
  std::map<topic_partition, int64_t> unprinted;
  while (!g_stop.load() && !(o.count && printed >= *o.count)) {
    auto records = (*c)->poll(kPollMs);
    if (!records.ok()) {
      (*c)->close();
      return fail(cmd, records.status());
    }
    out.clear();
    for (const consumed_record& r : *records) {
      if (o.count && printed >= *o.count) {
        unprinted.try_emplace({r.topic, r.partition}, r.offset);
        continue;
      }
      format.append(r, out);
      ++printed;
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
  }
  int rc = kExitOk;
  for (const auto& [tp, offset] : unprinted) {
    if (Status st = (*c)->seek(tp, offset); !st.ok()) rc = fail(cmd, st);
  }
  // The final commit, waited for so a failure is reported (close() would
  // commit too, silently).
  if (!(*c)->assignment().empty()) {
    if (Status st = (*c)->commit_sync(); !st.ok())
      rc = fail(cmd, "final commit: " + error_text(st));
  }
  (*c)->close();
  return rc;
}

int run_consume(const consume_options& o) {
  const std::string cmd = "consume";
  if (o.group) return run_group_consume(o);
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
  cmd->add_option(
      "--group,-g", o->group,
      "Join this consumer group: read the partitions it assigns (changes on stderr), commit "
      "as it goes, run until --count or Ctrl-C/SIGTERM (--follow implied)");
  cmd->add_option(
         "--commit-interval-ms", o->commit_interval_ms,
         "With --group: commit the printed positions this often (default 1000; also before a "
         "revocation and at exit)")
      ->check(CLI::Range(int64_t{1}, int64_t{3600} * 1000));
  cmd->footer(
      "Format (as kcat's): %t topic, %p partition, %o offset, %T timestamp (ms), %k key, %v "
      "value,\n"
      "%h headers (k1=v1,k2=v2), %K key length, %S value length, %% percent; escapes \\n \\t \\r "
      "\\\\.\n"
      "Records of different partitions interleave; each partition's are in offset order.\n"
      "Group mode (--group G): partitions without a committed offset start at --from beginning\n"
      "(default) or end; stderr gets 'assigned: t-0,t-1' / 'revoked: ...' lines; it keeps running\n"
      "without --follow, until --count records or SIGINT/SIGTERM, then commits and leaves.");
  cmd->callback([o, &exit_code] { exit_code = run_consume(*o); });
}

}  // namespace kappa::kappactl
