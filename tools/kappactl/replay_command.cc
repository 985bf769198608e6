// `kappactl replay`: copies a range of one topic's history into another
// topic, record i of partition p of the source going to partition p of the
// destination with its key, value, headers and timestamp, through libkappa's
// consumer (assign + seek) and an idempotent acks=all producer. Every check
// (topics, partitions, bounds) is made before the first record is written,
// so a bad command writes nothing.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "kappa/consumer.h"
#include "kappa/producer.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"
#include "tools/kappactl/progress.h"

namespace kappa::kappactl {
namespace {

constexpr int64_t kPollMs = 100;
constexpr int64_t kBarIntervalMs = 200;    // terminal redraws
constexpr int64_t kLineIntervalMs = 1000;  // plain lines (logs, pipes)
constexpr int64_t kMaxSleepMs = 100;       // --rate pacing naps, so progress keeps moving

std::atomic<bool> g_replay_stop{false};
extern "C" void on_replay_stop_signal(int) {
  g_replay_stop.store(true);
}

struct replay_options {
  broker_options broker;
  std::string from_topic;
  std::string to_topic;
  std::string from;
  std::optional<std::string> until;
  std::optional<int32_t> partition;
  std::optional<double> rate;
};

// --from / --until: an offset (the same in every partition) or a time.
struct bound {
  std::optional<int64_t> offset;
  std::optional<int64_t> time_ms;
  std::string text;
};

// Offsets [start, end) of one source partition.
struct partition_range {
  int32_t partition = 0;
  int64_t start = 0;
  int64_t end = 0;
};

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status invalid(std::string message) {
  return client_error(client_errc::invalid_argument, std::move(message));
}

Result<bound> parse_bound(const std::string& flag, const std::string& text) {
  bound b;
  b.text = text;
  if (std::optional<int64_t> n = parse_int(text)) {
    if (*n < 0) return invalid(flag + " " + text + ": an offset must be >= 0");
    b.offset = *n;
    return b;
  }
  auto ms = parse_iso8601_ms(text);
  if (!ms.ok()) {
    return invalid(flag + " must be an offset or an ISO-8601 time: " + ms.status().message());
  }
  b.time_ms = *ms;
  return b;
}

// Per partition, the first offset whose timestamp is >= time_ms (the high
// watermark when there is none).
Result<std::map<int32_t, int64_t>> offsets_for_time(admin& a, const std::string& topic,
                                                    const std::vector<partition_description>& parts,
                                                    int64_t time_ms) {
  std::vector<std::pair<topic_partition, int64_t>> specs;
  for (const partition_description& p : parts) specs.push_back({{topic, p.partition}, time_ms});
  KAPPA_ASSIGN_OR_RETURN(auto listed, a.list_offsets(specs));
  std::map<int32_t, int64_t> out;
  for (const listed_offset& l : listed) {
    if (!l.status.ok()) {
      return Status(l.status.code(), "offset for time in " + topic + "-" +
                                         std::to_string(l.tp.partition) + ": " + error_text(l.status));
    }
    out[l.tp.partition] = l.offset;
  }
  for (const partition_description& p : parts) {
    if (!out.count(p.partition))
      return invalid("no offset for time in " + topic + "-" + std::to_string(p.partition));
  }
  return out;
}

// The offset ranges to copy, checked against the source partitions as they
// are now; ranges end at most at the high watermark as of this call.
Result<std::vector<partition_range>> plan_ranges(admin& a, const replay_options& o,
                                                 const std::vector<partition_description>& parts,
                                                 const bound& from, const std::optional<bound>& until) {
  std::map<int32_t, int64_t> from_times, until_times;
  if (from.time_ms) {
    KAPPA_ASSIGN_OR_RETURN(from_times, offsets_for_time(a, o.from_topic, parts, *from.time_ms));
  }
  if (until && until->time_ms) {
    KAPPA_ASSIGN_OR_RETURN(until_times, offsets_for_time(a, o.from_topic, parts, *until->time_ms));
  }
  std::vector<partition_range> out;
  size_t past_end = 0;
  for (const partition_description& p : parts) {
    const std::string name = o.from_topic + "-" + std::to_string(p.partition);
    partition_range r;
    r.partition = p.partition;
    if (from.offset) {
      if (*from.offset < p.log_start_offset) {
        return invalid("--from " + from.text + " is below the log start " +
                       std::to_string(p.log_start_offset) + " of " + name +
                       " (those records were deleted)");
      }
      if (*from.offset > p.high_watermark) {
        ++past_end;
        r.start = r.end = p.high_watermark;  // nothing there yet
        out.push_back(r);
        continue;
      }
      r.start = *from.offset;
    } else {
      r.start = std::min(from_times.at(p.partition), p.high_watermark);
    }
    r.end = p.high_watermark;
    if (until && until->offset) r.end = std::min(*until->offset, p.high_watermark);
    if (until && until->time_ms) r.end = std::min(until_times.at(p.partition), p.high_watermark);
    if (r.end < r.start) {
      return invalid("--until " + until->text + " is before --from " + from.text + " in " + name +
                     " (offsets " + std::to_string(r.end) + " < " + std::to_string(r.start) + ")");
    }
    out.push_back(r);
  }
  if (past_end == parts.size()) {
    std::string hw;
    for (const partition_description& p : parts) {
      hw += (hw.empty() ? "" : ", ") + std::to_string(p.partition) + ":" + std::to_string(p.high_watermark);
    }
    return invalid("--from " + from.text + " is past the end of " + o.from_topic +
                   " (high watermark per partition: " + hw + ")");
  }
  return out;
}

// Redraws a bar on a terminal, prints a plain line per second otherwise.
class progress_reporter {
 public:
  explicit progress_reporter(bool tty) : tty_(tty), last_ms_(steady_ms()) {}

  void maybe_report(const progress_snapshot& s) {
    const int64_t now = steady_ms();
    if (now - last_ms_ < (tty_ ? kBarIntervalMs : kLineIntervalMs)) return;
    last_ms_ = now;
    if (tty_) {
      std::fprintf(stderr, "\r%s\x1b[K", format_progress_bar(s).c_str());
      drawn_ = true;
    } else {
      std::fprintf(stderr, "%s\n", format_progress_line(s).c_str());
    }
    std::fflush(stderr);
  }

  // Leaves the last bar on screen, on its own line.
  void finish(const progress_snapshot& s) {
    if (tty_ && drawn_) std::fprintf(stderr, "\r%s\x1b[K\n", format_progress_bar(s).c_str());
    std::fflush(stderr);
  }

 private:
  bool tty_;
  int64_t last_ms_;
  bool drawn_ = false;
};

// Delivery outcomes, counted from the producer's I/O thread.
struct delivery_tally {
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> acknowledged_bytes{0};
  std::atomic<uint64_t> failed{0};
  std::mutex mu;
  std::string first_error;
};

size_t record_bytes(const consumed_record& r) {
  size_t n = (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const header& h : r.headers) n += h.key.size() + (h.value ? h.value->size() : 0);
  return n;
}

std::string plan_text(const replay_options& o, const std::vector<partition_range>& ranges) {
  constexpr size_t kShown = 16;
  uint64_t total = 0;
  std::string parts;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const partition_range& r = ranges[i];
    total += static_cast<uint64_t>(r.end - r.start);
    if (i < kShown) {
      parts += (parts.empty() ? "" : " ") + std::to_string(r.partition) + ":[" + std::to_string(r.start) +
               "," + std::to_string(r.end) + ")";
    }
  }
  if (ranges.size() > kShown) parts += " ...";
  return "replay " + o.from_topic + " -> " + o.to_topic + ": " + std::to_string(total) + " offsets in " +
         std::to_string(ranges.size()) + " partition(s), partition:[from,until) " + parts;
}

int run_replay(const replay_options& o) {
  const std::string cmd = "replay";
  if (o.from_topic == o.to_topic) return fail(cmd, "--from-topic and --to-topic must differ");
  auto from = parse_bound("--from", o.from);
  if (!from.ok()) return fail(cmd, from.status());
  std::optional<bound> until;
  if (o.until) {
    auto u = parse_bound("--until", *o.until);
    if (!u.ok()) return fail(cmd, u.status());
    until = *u;
  }
  if (from->time_ms && *from->time_ms > wall_ms()) {
    return fail(cmd, "--from " + from->text + " is in the future");
  }
  if (until && ((from->offset && until->offset && *until->offset <= *from->offset) ||
                (from->time_ms && until->time_ms && *until->time_ms <= *from->time_ms))) {
    return fail(cmd, "--until " + until->text + " must be after --from " + from->text);
  }

  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto source = describe_topic(**a, o.from_topic);
  if (!source.ok()) return fail(cmd, source.status());
  auto dest = describe_topic(**a, o.to_topic);
  if (!dest.ok()) return fail(cmd, dest.status());
  std::vector<partition_description> parts;
  if (o.partition) {
    for (const partition_description& p : source->partitions) {
      if (p.partition == *o.partition) parts.push_back(p);
    }
    if (parts.empty()) {
      return fail(cmd, "topic '" + o.from_topic + "' has no partition " + std::to_string(*o.partition) +
                           " (it has " + std::to_string(source->partitions.size()) + ")");
    }
    if (*o.partition < 0 || size_t(*o.partition) >= dest->partitions.size()) {
      return fail(cmd, "topic '" + o.to_topic + "' has no partition " + std::to_string(*o.partition) +
                           " (it has " + std::to_string(dest->partitions.size()) + ")");
    }
  } else {
    parts = source->partitions;
    if (dest->partitions.size() < parts.size()) {
      return fail(cmd, "topic '" + o.to_topic + "' has " + std::to_string(dest->partitions.size()) +
                           " partitions, fewer than the " + std::to_string(parts.size()) + " of '" +
                           o.from_topic + "' (record i of partition p goes to partition p)");
    }
  }
  auto planned = plan_ranges(**a, o, parts, *from, until);
  if (!planned.ok()) return fail(cmd, planned.status());
  std::vector<partition_range> ranges = std::move(*planned);
  std::fprintf(stderr, "%s\n", plan_text(o, ranges).c_str());

  progress_snapshot snap;
  std::map<int32_t, partition_range> by_partition;
  std::map<int32_t, int64_t> read_to;  // per partition: the offsets below it are read
  std::vector<topic_partition> tps;
  for (const partition_range& r : ranges) {
    snap.total_offsets += static_cast<uint64_t>(r.end - r.start);
    if (r.start == r.end) continue;
    by_partition[r.partition] = r;
    read_to[r.partition] = r.start;
    tps.push_back({o.from_topic, r.partition});
  }

  consumer_config cc;
  cc.client = make_client_config(o.broker);
  cc.auto_offset_reset = offset_reset::none;  // a range gone from under us is an error, not a jump
  auto c = consumer::create(cc);
  if (!c.ok()) return fail(cmd, c.status());
  if (Status st = (*c)->assign(tps); !st.ok()) return fail(cmd, st);
  for (const topic_partition& tp : tps) {
    if (Status st = (*c)->seek(tp, by_partition[tp.partition].start); !st.ok()) return fail(cmd, st);
  }

  producer_config pc;
  pc.client = make_client_config(o.broker);
  pc.required_acks = acks::all;
  pc.idempotence = true;  // a retried batch is not copied twice
  pc.max_block_ms = o.broker.timeout_ms;
  pc.delivery_timeout_ms = std::max<int64_t>(3 * o.broker.timeout_ms, 30000);
  auto tally = std::make_shared<delivery_tally>();
  auto p = producer::create(pc);
  if (!p.ok()) return fail(cmd, p.status());

  struct sigaction sa {};
  sa.sa_handler = on_replay_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  progress_reporter reporter(::isatty(STDERR_FILENO) == 1);
  const int64_t start_ms = steady_ms();
  auto snapshot = [&] {
    snap.records = tally->acknowledged.load();
    snap.bytes = tally->acknowledged_bytes.load();
    snap.done_offsets = 0;
    for (const auto& [partition, to] : read_to) {
      snap.done_offsets += static_cast<uint64_t>(to - by_partition[partition].start);
    }
    snap.elapsed_s = static_cast<double>(steady_ms() - start_ms) / 1000;
    return snap;
  };

  uint64_t sent = 0;
  int64_t last_progress_ms = steady_ms();
  // No record and no position change for this long means the broker
  // stopped answering.
  const int64_t idle_limit_ms = std::max<int64_t>(3 * o.broker.timeout_ms, 10000);
  std::string read_error;
  auto all_read = [&] {
    for (const auto& [partition, to] : read_to) {
      if (to < by_partition[partition].end) return false;
    }
    return true;
  };
  while (!all_read() && !g_replay_stop.load() && tally->failed.load() == 0 && read_error.empty()) {
    auto records = (*c)->poll(kPollMs);
    if (!records.ok()) {
      read_error = error_text(records.status());
      break;
    }
    for (consumed_record& r : *records) {
      const partition_range& range = by_partition[r.partition];
      if (r.offset < range.start || r.offset >= range.end) continue;
      if (o.rate) {
        // Record k leaves no earlier than k / rate seconds after the start.
        const auto due_ms = start_ms + static_cast<int64_t>(static_cast<double>(sent) * 1000 / *o.rate);
        for (int64_t now = steady_ms(); now < due_ms && !g_replay_stop.load(); now = steady_ms()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(due_ms - now, kMaxSleepMs)));
          reporter.maybe_report(snapshot());
        }
        if (g_replay_stop.load()) break;
      }
      const size_t size = record_bytes(r);
      producer_record out;
      out.topic = o.to_topic;
      out.partition = r.partition;
      out.key = std::move(r.key);
      out.value = std::move(r.value);
      out.headers = std::move(r.headers);
      out.timestamp_ms = r.timestamp_ms;
      read_to[r.partition] = r.offset + 1;
      (*p)->send(std::move(out), [tally, size](const delivery_report& d) {
        if (d.ok()) {
          tally->acknowledged_bytes += size;
          ++tally->acknowledged;  // after the bytes: a snapshot never counts a record without them
          return;
        }
        if (tally->failed++ == 0) {
          std::lock_guard lk(tally->mu);
          tally->first_error = "partition " + std::to_string(d.partition) + ": " + error_text(d.status);
        }
      });
      ++sent;
      last_progress_ms = steady_ms();
    }
    // Positions also move past offsets without records (control batches).
    for (auto& [partition, to] : read_to) {
      const partition_range& range = by_partition[partition];
      if (to >= range.end) continue;
      auto pos = (*c)->position({o.from_topic, partition});
      if (!pos.ok()) {
        read_error = error_text(pos.status());
        break;
      }
      if (std::min(*pos, range.end) > to) {
        to = std::min(*pos, range.end);
        last_progress_ms = steady_ms();
      }
      if (to >= range.end) (void)(*c)->pause({{o.from_topic, partition}});
    }
    if (!all_read() && steady_ms() - last_progress_ms > idle_limit_ms) {
      read_error = "no records for " + std::to_string(idle_limit_ms) + " ms before the end of the range";
    }
    reporter.maybe_report(snapshot());
  }
  (*c)->close();

  // Wait for the reports, redrawing meanwhile.
  const int64_t flush_deadline = steady_ms() + pc.delivery_timeout_ms + o.broker.timeout_ms;
  while (tally->acknowledged.load() + tally->failed.load() < sent && steady_ms() < flush_deadline) {
    (void)(*p)->flush(kBarIntervalMs);
    reporter.maybe_report(snapshot());
  }
  Status closed = (*p)->close(0);
  reporter.finish(snapshot());

  const uint64_t acknowledged = tally->acknowledged.load();
  if (acknowledged < sent) {
    std::string why;
    {
      std::lock_guard lk(tally->mu);
      why = tally->first_error.empty() ? error_text(closed) : tally->first_error;
    }
    return fail(cmd, std::to_string(sent - acknowledged) + " of " + std::to_string(sent) +
                         " records copied to " + o.to_topic + " not acknowledged; first error: " + why);
  }
  if (!read_error.empty()) {
    return fail(cmd, "reading " + o.from_topic + " failed after copying " + std::to_string(acknowledged) +
                         " records: " + read_error);
  }
  if (g_replay_stop.load() && !all_read()) {
    return fail(cmd, "interrupted after copying " + std::to_string(acknowledged) +
                         " records; the destination holds a partial copy");
  }
  std::fprintf(stderr, "%s\n", format_replay_summary(snapshot(), o.from_topic, o.to_topic).c_str());
  return kExitOk;
}

}  // namespace

void add_replay_command(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<replay_options>();
  CLI::App* cmd = root.add_subcommand("replay", "Copy a range of a topic's history into another topic");
  add_broker_options(*cmd, o->broker);
  cmd->add_option("--from-topic", o->from_topic, "Topic to read")->required();
  cmd->add_option("--to-topic", o->to_topic,
                  "Topic to write (at least as many partitions as --from-topic)")
      ->required();
  cmd->add_option("--from", o->from,
                  "First offset (the same in every partition) or ISO-8601 time such as "
                  "2026-11-22T10:00:00Z (first record at or after it)")
      ->required();
  cmd->add_option("--until", o->until,
                  "End, exclusive: an offset (records before it) or an ISO-8601 time (records up to "
                  "the first one at or after it); default: the high watermark as of start");
  cmd->add_option("--partition,-p", o->partition, "Copy only this partition (default: all)");
  cmd->add_option("--rate", o->rate, "At most this many records per second (default: unlimited)")
      ->check(CLI::PositiveNumber);
  cmd->footer(
      "Record i of partition p goes to partition p of --to-topic, with its key, value, headers\n"
      "and timestamp, through an idempotent acks=all producer. Every check is made before the\n"
      "first record is written. Progress goes to stderr: a bar on a terminal, else a line a\n"
      "second, then a summary line. Exits 0 only once every copied record is acknowledged.");
  cmd->callback([o, &exit_code] { exit_code = run_replay(*o); });
}

}  // namespace kappa::kappactl
