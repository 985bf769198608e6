// `kappactl offsets TOPIC` (earliest and latest offsets, or the offset at a
// time, per partition) and `kappactl delete-records` (move a partition's
// log start offset forward).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "tools/common/output.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

struct offsets_options {
  broker_options broker;
  std::string topic;
  std::optional<std::string> time;
  std::string output = "text";
};

struct delete_options {
  broker_options broker;
  std::string topic;
  int32_t partition = 0;
  int64_t before = 0;
};

// Lists `spec` for every partition of the topic, in partition order.
Result<std::vector<listed_offset>> list_all(admin& a, const topic_description& t, int64_t spec) {
  std::vector<std::pair<topic_partition, int64_t>> specs;
  for (const partition_description& p : t.partitions)
    specs.push_back({{t.name, p.partition}, spec});
  auto r = a.list_offsets(specs);
  if (!r.ok()) return r.status();
  for (const listed_offset& l : *r) {
    if (!l.status.ok()) {
      return Status(l.status.code(),
                    "partition " + std::to_string(l.tp.partition) + ": " + error_text(l.status));
    }
  }
  std::sort(r->begin(), r->end(),
            [](const auto& x, const auto& y) { return x.tp.partition < y.tp.partition; });
  return r;
}

int run_offsets(const offsets_options& o) {
  const std::string cmd = "offsets";
  std::optional<int64_t> at_ms;
  if (o.time) {
    at_ms = parse_int(*o.time);
    if (!at_ms) {
      auto parsed = parse_iso8601_ms(*o.time);
      if (!parsed.ok())
        return fail(cmd, "--time: " + parsed.status().message() + " or epoch milliseconds");
      at_ms = *parsed;
    }
    if (*at_ms < 0) return fail(cmd, "--time must not be negative");
  }
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto t = describe_topic(**a, o.topic);
  if (!t.ok()) return fail(cmd, t.status());
  const bool json = o.output == "json";
  std::string j = "{\"topic\":" + tools::json_string(o.topic) + ",\"partitions\":[";
  if (at_ms) {
    auto at = list_all(**a, *t, *at_ms);
    if (!at.ok()) return fail(cmd, at.status());
    for (size_t i = 0; i < at->size(); ++i) {
      const listed_offset& l = (*at)[i];
      // No record at or after the time: the broker answers the log end
      // offset (where the next record lands) with timestamp -1.
      if (json) {
        j += std::string(i ? "," : "") + "{\"partition\":" + std::to_string(l.tp.partition) +
             ",\"offset\":" + std::to_string(l.offset) +
             ",\"timestamp\":" + std::to_string(l.timestamp_ms) + "}";
      } else {
        std::printf("partition %d  offset %lld  timestamp %lld\n", l.tp.partition,
                    static_cast<long long>(l.offset), static_cast<long long>(l.timestamp_ms));
      }
    }
  } else {
    auto earliest = list_all(**a, *t, kEarliestOffsetSpec);
    if (!earliest.ok()) return fail(cmd, earliest.status());
    auto latest = list_all(**a, *t, kLatestOffsetSpec);
    if (!latest.ok()) return fail(cmd, latest.status());
    if (earliest->size() != latest->size())
      return fail(cmd, "the broker answered for a different set of partitions");
    for (size_t i = 0; i < earliest->size(); ++i) {
      const listed_offset& e = (*earliest)[i];
      const listed_offset& l = (*latest)[i];
      if (json) {
        j += std::string(i ? "," : "") + "{\"partition\":" + std::to_string(e.tp.partition) +
             ",\"earliest\":" + std::to_string(e.offset) +
             ",\"latest\":" + std::to_string(l.offset) + "}";
      } else {
        std::printf("partition %d  earliest %lld  latest %lld\n", e.tp.partition,
                    static_cast<long long>(e.offset), static_cast<long long>(l.offset));
      }
    }
  }
  if (json) std::printf("%s]}\n", j.c_str());
  return kExitOk;
}

int run_delete_records(const delete_options& o) {
  const std::string cmd = "delete-records";
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto r = (*a)->delete_records({{{o.topic, o.partition}, o.before}});
  if (!r.ok()) return fail(cmd, r.status());
  if (r->empty()) return fail(cmd, "the broker answered for no partition");
  for (const delete_records_result& d : *r) {
    if (!d.status.ok()) {
      return fail(cmd, "topic '" + o.topic + "' partition " + std::to_string(d.tp.partition) +
                           ": " + error_text(d.status));
    }
    std::printf("partition %d  log start offset %lld\n", d.tp.partition,
                static_cast<long long>(d.low_watermark));
  }
  return kExitOk;
}

}  // namespace

void add_offsets_commands(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<offsets_options>();
  CLI::App* offsets =
      root.add_subcommand("offsets", "Earliest and latest offsets (or the offset at a time)");
  add_broker_options(*offsets, o->broker);
  offsets->add_option("topic", o->topic, "Topic")->required();
  offsets->add_option(
      "--time,-t", o->time,
      "ISO-8601 time (2026-11-22T10:00:00Z) or epoch milliseconds: print the first offset "
      "whose timestamp is at or after it (none: the log end, with timestamp -1)");
  offsets->add_option("--output,-o", o->output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  offsets->footer(
      "Text: 'partition P  earliest E  latest L' per partition (latest = the high watermark).\n"
      "JSON: {topic, partitions: [{partition, earliest, latest}]}, or with --time\n"
      "{topic, partitions: [{partition, offset, timestamp}]}.");
  offsets->callback([o, &exit_code] { exit_code = run_offsets(*o); });

  auto d = std::make_shared<delete_options>();
  CLI::App* del =
      root.add_subcommand("delete-records", "Delete a partition's records below an offset");
  add_broker_options(*del, d->broker);
  del->add_option("topic", d->topic, "Topic")->required();
  del->add_option("--partition,-p", d->partition, "Partition")
      ->required()
      ->check(CLI::Range(0, 1000000));
  del->add_option("--before", d->before,
                  "Delete records below this offset (-1: the high watermark)")
      ->required()
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  del->footer("Prints the partition's new log start offset. Whole segments below it are removed.");
  del->callback([d, &exit_code] { exit_code = run_delete_records(*d); });
}

}  // namespace kappa::kappactl
