// The `group` command group: list, describe, reset-offsets, delete,
// delete-offsets. Each is a few admin calls to the group's coordinator
// (list asks every live broker); reset-offsets also reads the partitions'
// log bounds (ListOffsets) and plans with reset_plan.h before changing
// anything.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "tools/common/output.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"
#include "tools/kappactl/reset_plan.h"

namespace kappa::kappactl {
namespace {

using tools::json_string;

struct group_options {
  broker_options broker;
  std::string group;
  std::string output = "text";
  std::vector<std::string> topics;
  // reset-offsets
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<std::string> to_datetime;
  std::optional<std::string> by_duration;
  std::optional<int64_t> shift_by;
  std::optional<std::string> from_file;
  bool execute = false;
  bool dry_run = false;
};

std::string tp_name(const topic_partition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

std::string tp_list(const std::vector<topic_partition>& tps) {
  std::string out;
  for (const topic_partition& tp : tps) out += (out.empty() ? "" : ",") + tp_name(tp);
  return out.empty() ? "-" : out;
}

std::string tp_json(const std::vector<topic_partition>& tps) {
  std::string out = "[";
  for (size_t i = 0; i < tps.size(); ++i) {
    out += std::string(i ? "," : "") + "{\"topic\":" + json_string(tps[i].topic) +
           ",\"partition\":" + std::to_string(tps[i].partition) + "}";
  }
  return out + "]";
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string offset_text(int64_t v) {
  return v < 0 ? "-" : std::to_string(v);
}

// Columns padded to their widest cell, two spaces apart.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

// A group error with the group named and the common cases said plainly.
std::string group_error(const std::string& group, const Status& st) {
  if (st.code() == make_error_code(client_errc::group_id_not_found)) {
    return "group '" + group + "' does not exist (" + st.code().message() + ")";
  }
  if (st.code() == make_error_code(client_errc::non_empty_group)) {
    return "group '" + group + "' has active members; stop its consumers first (" + error_text(st) +
           ")";
  }
  return error_text(st);
}

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run_list(const group_options& o) {
  const std::string cmd = "group list";
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto groups = (*a)->list_groups();
  if (!groups.ok()) return fail(cmd, groups.status());
  if (o.output == "json") {
    std::string j = "{\"groups\":[";
    for (size_t i = 0; i < groups->size(); ++i) {
      const group_listing& g = (*groups)[i];
      j += std::string(i ? "," : "") + "{\"group_id\":" + json_string(g.group_id) +
           ",\"state\":" + json_string(g.state) + ",\"members\":" + std::to_string(g.members) +
           ",\"coordinator_id\":" + std::to_string(g.coordinator_id) + "}";
    }
    std::printf("%s]}\n", j.c_str());
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const group_listing& g : *groups) {
    rows.push_back(
        {g.group_id, g.state, std::to_string(g.members), std::to_string(g.coordinator_id)});
  }
  print_table({"GROUP", "STATE", "MEMBERS", "COORDINATOR"}, rows);
  return kExitOk;
}

// The coordinator leaves high_watermark -1 where it could not ask a
// partition's leader; those are asked here, and their lag computed as the
// coordinator would have (from the log start when nothing is committed).
void fill_unknown_watermarks(admin& a, group_description& d) {
  std::vector<std::pair<topic_partition, int64_t>> latest, earliest;
  for (const group_partition_offset& p : d.offsets) {
    if (p.high_watermark >= 0) continue;
    latest.push_back({p.tp, kLatestOffsetSpec});
    earliest.push_back({p.tp, kEarliestOffsetSpec});
  }
  if (latest.empty()) return;
  auto hw = a.list_offsets(latest);
  auto start = a.list_offsets(earliest);
  if (!hw.ok() || !start.ok()) return;
  std::map<topic_partition, int64_t> hws, starts;
  for (const listed_offset& l : *hw) {
    if (l.status.ok()) hws[l.tp] = l.offset;
  }
  for (const listed_offset& l : *start) {
    if (l.status.ok()) starts[l.tp] = l.offset;
  }
  for (group_partition_offset& p : d.offsets) {
    if (p.high_watermark >= 0 || !hws.count(p.tp)) continue;
    p.high_watermark = hws[p.tp];
    if (p.committed_offset >= 0) {
      p.lag = std::max<int64_t>(0, p.high_watermark - p.committed_offset);
    } else if (starts.count(p.tp)) {
      p.lag = std::max<int64_t>(0, p.high_watermark - starts[p.tp]);
    }
  }
}

std::string describe_json(const group_description& d) {
  std::string j = "{\"group_id\":" + json_string(d.group_id) +
                  ",\"state\":" + json_string(d.state) +
                  ",\"assignor\":" + json_string(d.assignor) +
                  ",\"group_epoch\":" + std::to_string(d.group_epoch) +
                  ",\"assignment_epoch\":" + std::to_string(d.assignment_epoch) +
                  ",\"coordinator_id\":" + std::to_string(d.coordinator_id) +
                  ",\"rebalances\":" + std::to_string(d.rebalances) + ",\"members\":[";
  for (size_t i = 0; i < d.members.size(); ++i) {
    const group_member_description& m = d.members[i];
    std::string topics = "[";
    for (size_t t = 0; t < m.subscribed_topics.size(); ++t) {
      topics += (t ? "," : "") + json_string(m.subscribed_topics[t]);
    }
    j += std::string(i ? "," : "") + "{\"member_id\":" + json_string(m.member_id) +
         ",\"instance_id\":" + json_string(m.instance_id) +
         ",\"client_id\":" + json_string(m.client_id) + ",\"host\":" + json_string(m.host) +
         ",\"member_epoch\":" + std::to_string(m.member_epoch) +
         ",\"state\":" + json_string(m.state) + ",\"subscribed_topics\":" + topics +
         "],\"subscribed_pattern\":" + json_string(m.subscribed_pattern) +
         ",\"assignment\":" + tp_json(m.assignment) +
         ",\"target_assignment\":" + tp_json(m.target_assignment) + "}";
  }
  j += "],\"offsets\":[";
  for (size_t i = 0; i < d.offsets.size(); ++i) {
    const group_partition_offset& p = d.offsets[i];
    j += std::string(i ? "," : "") + "{\"topic\":" + json_string(p.tp.topic) +
         ",\"partition\":" + std::to_string(p.tp.partition) +
         ",\"committed_offset\":" + std::to_string(p.committed_offset) +
         ",\"high_watermark\":" + std::to_string(p.high_watermark) +
         ",\"lag\":" + std::to_string(p.lag) +
         ",\"owner_member_id\":" + json_string(p.owner_member_id) +
         ",\"metadata\":" + json_string(p.metadata) + "}";
  }
  return j + "]}";
}

int run_describe(const group_options& o) {
  const std::string cmd = "group describe";
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto d = (*a)->describe_group(o.group);
  if (!d.ok()) return fail(cmd, group_error(o.group, d.status()));
  fill_unknown_watermarks(**a, *d);
  if (o.output == "json") {
    std::printf("%s\n", describe_json(*d).c_str());
    return kExitOk;
  }
  std::printf(
      "group %s: state %s, assignor %s, group epoch %d, assignment epoch %d, coordinator %d, "
      "rebalances %lld, %zu member%s\n",
      d->group_id.c_str(), d->state.c_str(), or_dash(d->assignor).c_str(), d->group_epoch,
      d->assignment_epoch, d->coordinator_id, static_cast<long long>(d->rebalances),
      d->members.size(), d->members.size() == 1 ? "" : "s");
  if (!d->members.empty()) {
    std::printf("\n");
    std::vector<std::vector<std::string>> rows;
    for (const group_member_description& m : d->members) {
      std::string assignment = tp_list(m.assignment);
      // Still moving: show where it is heading too.
      if (m.target_assignment != m.assignment)
        assignment += " (target " + tp_list(m.target_assignment) + ")";
      rows.push_back({m.member_id, or_dash(m.instance_id), or_dash(m.client_id), or_dash(m.host),
                      std::to_string(m.member_epoch), m.state, assignment});
    }
    print_table({"MEMBER", "INSTANCE", "CLIENT", "HOST", "EPOCH", "STATE", "ASSIGNMENT"}, rows);
  }
  if (!d->offsets.empty()) {
    std::printf("\n");
    std::vector<std::vector<std::string>> rows;
    for (const group_partition_offset& p : d->offsets) {
      rows.push_back({p.tp.topic, std::to_string(p.tp.partition), offset_text(p.committed_offset),
                      offset_text(p.high_watermark), offset_text(p.lag),
                      or_dash(p.owner_member_id)});
    }
    print_table({"TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "OWNER"}, rows);
  }
  return kExitOk;
}

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return client_error(client_errc::invalid_argument, "--from-file: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return client_error(client_errc::invalid_argument, "--from-file: error reading '" + path + "'");
  return ss.str();
}

// The partitions the reset covers with what the cluster knows of them.
Result<std::vector<partition_state>> gather_states(admin& a, const group_options& o,
                                                   const reset_spec& spec,
                                                   const group_description* group) {
  std::vector<topic_selection> selections;
  if (spec.mode == reset_mode::from_file) {
    std::set<std::string> topics;
    for (const auto& [tp, offset] : spec.file_offsets) topics.insert(tp.topic);
    for (const std::string& t : topics) selections.push_back({t, {}});
  } else {
    for (const std::string& text : o.topics) {
      KAPPA_ASSIGN_OR_RETURN(topic_selection sel, parse_topic_selection(text));
      selections.push_back(std::move(sel));
    }
  }
  std::map<std::string, std::vector<int32_t>> existing;
  for (const topic_selection& sel : selections) {
    if (existing.count(sel.topic)) continue;
    KAPPA_ASSIGN_OR_RETURN(topic_description t, describe_topic(a, sel.topic));
    for (const partition_description& p : t.partitions) existing[sel.topic].push_back(p.partition);
  }
  KAPPA_ASSIGN_OR_RETURN(std::vector<topic_partition> tps, expand_selections(selections, existing));
  if (spec.mode == reset_mode::from_file) {
    // Only the file's partitions; one missing from the cluster is reported
    // by the planner.
    std::erase_if(tps, [&](const topic_partition& tp) { return !spec.file_offsets.count(tp); });
  }

  std::map<topic_partition, partition_state> states;
  for (const topic_partition& tp : tps) states[tp].tp = tp;
  if (group) {
    for (const group_partition_offset& p : group->offsets) {
      auto it = states.find(p.tp);
      if (it != states.end()) it->second.committed = p.committed_offset;
    }
  }
  auto list = [&](int64_t spec_value, auto apply) -> Status {
    std::vector<std::pair<topic_partition, int64_t>> specs;
    for (const topic_partition& tp : tps) specs.push_back({tp, spec_value});
    if (specs.empty()) return Status();
    KAPPA_ASSIGN_OR_RETURN(std::vector<listed_offset> listed, a.list_offsets(specs));
    for (const listed_offset& l : listed) {
      if (!l.status.ok())
        return Status(l.status.code(), tp_name(l.tp) + ": " + error_text(l.status));
      auto it = states.find(l.tp);
      if (it != states.end()) apply(it->second, l);
    }
    return Status();
  };
  KAPPA_RETURN_IF_ERROR(list(kEarliestOffsetSpec, [](partition_state& s, const listed_offset& l) {
    s.log_start = l.offset;
  }));
  KAPPA_RETURN_IF_ERROR(list(kLatestOffsetSpec, [](partition_state& s, const listed_offset& l) {
    s.high_watermark = l.offset;
  }));
  if (spec.mode == reset_mode::to_datetime || spec.mode == reset_mode::by_duration) {
    // No record at or after the time: the broker answers with timestamp -1.
    KAPPA_RETURN_IF_ERROR(list(spec.timestamp_ms, [](partition_state& s, const listed_offset& l) {
      s.offset_at_time = l.timestamp_ms >= 0 ? l.offset : -1;
    }));
  }
  std::vector<partition_state> out;
  for (auto& [tp, s] : states) out.push_back(s);
  return out;
}

std::string plan_json(const std::string& group, const std::vector<planned_reset>& plan,
                      bool executed) {
  std::string j = "{\"group_id\":" + json_string(group) +
                  ",\"executed\":" + (executed ? "true" : "false") + ",\"partitions\":[";
  for (size_t i = 0; i < plan.size(); ++i) {
    const planned_reset& r = plan[i];
    j += std::string(i ? "," : "") + "{\"topic\":" + json_string(r.tp.topic) +
         ",\"partition\":" + std::to_string(r.tp.partition) +
         ",\"current_offset\":" + std::to_string(r.current) +
         ",\"requested_offset\":" + std::to_string(r.requested) +
         ",\"new_offset\":" + std::to_string(r.target) + ",\"note\":" + json_string(r.note) + "}";
  }
  return j + "]}";
}

int run_reset(const group_options& o) {
  const std::string cmd = "group reset-offsets";
  if (o.execute && o.dry_run) return fail(cmd, "give --execute or --dry-run, not both");
  reset_flags flags;
  flags.to_earliest = o.to_earliest;
  flags.to_latest = o.to_latest;
  flags.to_offset = o.to_offset;
  flags.by_duration = o.by_duration;
  flags.shift_by = o.shift_by;
  if (o.to_datetime) {
    auto ms = parse_iso8601_ms(*o.to_datetime);
    if (!ms.ok()) return fail(cmd, "--to-datetime: " + ms.status().message());
    flags.to_datetime_ms = *ms;
  }
  if (o.from_file) {
    auto text = read_whole_file(*o.from_file);
    if (!text.ok()) return fail(cmd, text.status());
    flags.from_file_csv = std::move(*text);
  }
  auto spec = make_reset_spec(flags, wall_now_ms());
  if (!spec.ok()) return fail(cmd, spec.status());
  if (spec->mode == reset_mode::from_file && !o.topics.empty()) {
    return fail(cmd, "--from-file names its partitions itself: drop --topic");
  }
  if (spec->mode != reset_mode::from_file && o.topics.empty()) {
    return fail(cmd, "give the partitions to reset with --topic T or --topic T:P,P,...");
  }

  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  // A group that does not exist yet has no members and nothing committed;
  // --execute creates it with the new offsets, as Kafka's tool does.
  auto group = (*a)->describe_group(o.group);
  const bool exists = group.ok();
  if (!exists && group.status().code() != make_error_code(client_errc::group_id_not_found)) {
    return fail(cmd, group_error(o.group, group.status()));
  }
  if (exists && !group->members.empty() && o.execute) {
    return fail(
        cmd, "group '" + o.group + "' has " + std::to_string(group->members.size()) +
                 " active member" + (group->members.size() == 1 ? "" : "s") + " (state " +
                 group->state +
                 "): offsets can only be reset while the group is empty; stop its consumers first. "
                 "Nothing changed.");
  }
  auto states = gather_states(**a, o, *spec, exists ? &*group : nullptr);
  if (!states.ok())
    return fail(cmd,
                Status(states.status().code(), states.status().message() + "; nothing changed"));
  auto plan = plan_resets(*spec, *states);
  if (!plan.ok())
    return fail(cmd, Status(plan.status().code(), plan.status().message() + "; nothing changed"));

  for (const planned_reset& r : *plan) {
    if (!r.note.empty())
      std::fprintf(stderr, "kappactl %s: note: %s: %s\n", cmd.c_str(), tp_name(r.tp).c_str(),
                   r.note.c_str());
  }
  if (!exists)
    std::fprintf(stderr, "kappactl %s: note: group '%s' does not exist yet%s\n", cmd.c_str(),
                 o.group.c_str(), o.execute ? "; it is created with these offsets" : "");
  if (exists && !group->members.empty()) {
    std::fprintf(stderr,
                 "kappactl %s: note: group '%s' has active members: --execute would be refused\n",
                 cmd.c_str(), o.group.c_str());
  }

  if (o.execute) {
    std::map<topic_partition, int64_t> offsets;
    for (const planned_reset& r : *plan) offsets[r.tp] = r.target;
    auto results = (*a)->alter_group_offsets(o.group, offsets);
    if (!results.ok())
      return fail(cmd, group_error(o.group, results.status()) + "; nothing changed");
    std::string failed;
    for (const partition_result& r : *results) {
      if (!r.status.ok())
        failed += (failed.empty() ? "" : "; ") + tp_name(r.tp) + ": " + error_text(r.status);
    }
    if (!failed.empty()) {
      return fail(cmd, "some partitions were not reset (" + failed + "); the others were");
    }
  }
  if (o.output == "json") {
    std::printf("%s\n", plan_json(o.group, *plan, o.execute).c_str());
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const planned_reset& r : *plan) {
    rows.push_back({r.tp.topic, std::to_string(r.tp.partition), offset_text(r.current),
                    std::to_string(r.target)});
  }
  print_table({"TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"}, rows);
  if (o.execute) {
    std::printf("reset %zu partition%s of group %s\n", plan->size(), plan->size() == 1 ? "" : "s",
                o.group.c_str());
  } else {
    std::printf("dry run: nothing changed (add --execute to apply)\n");
  }
  return kExitOk;
}

int run_delete(const group_options& o) {
  const std::string cmd = "group delete";
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  Status st = (*a)->delete_group(o.group);
  if (!st.ok()) return fail(cmd, group_error(o.group, st));
  std::printf("deleted group %s\n", o.group.c_str());
  return kExitOk;
}

int run_delete_offsets(const group_options& o) {
  const std::string cmd = "group delete-offsets";
  if (o.topics.empty()) return fail(cmd, "give the partitions with --topic T or --topic T:P,P,...");
  std::vector<topic_partition> tps;
  for (const std::string& text : o.topics) {
    auto sel = parse_topic_selection(text);
    if (!sel.ok()) return fail(cmd, sel.status());
    if (sel->partitions.empty()) tps.push_back({sel->topic, -1});
    for (int32_t p : sel->partitions) tps.push_back({sel->topic, p});
  }
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  auto results = (*a)->delete_group_offsets(o.group, tps);
  if (!results.ok()) return fail(cmd, group_error(o.group, results.status()));
  std::string failed;
  std::vector<topic_partition> deleted;
  for (const partition_result& r : *results) {
    if (r.status.ok()) {
      deleted.push_back(r.tp);
    } else {
      failed += (failed.empty() ? "" : "; ") + tp_name(r.tp) + ": " + error_text(r.status);
    }
  }
  if (!failed.empty()) return fail(cmd, "group '" + o.group + "': " + failed);
  std::printf("deleted committed offsets of group %s: %s\n", o.group.c_str(),
              deleted.empty() ? "none were committed" : tp_list(deleted).c_str());
  return kExitOk;
}

CLI::App* add_command(CLI::App* group, const char* name, const char* help,
                      std::shared_ptr<group_options> o, int& exit_code,
                      int (*run)(const group_options&)) {
  CLI::App* cmd = group->add_subcommand(name, help);
  add_broker_options(*cmd, o->broker);
  cmd->callback([o, &exit_code, run] { exit_code = run(*o); });
  return cmd;
}

void add_output_option(CLI::App* cmd, group_options& o) {
  cmd->add_option("--output,-o", o.output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

void add_group_commands(CLI::App& root, int& exit_code) {
  CLI::App* group = root.add_subcommand(
      "group",
      "Consumer groups: list, describe (members, lag), reset-offsets, delete, delete-offsets");
  group->require_subcommand(1);
  auto o = std::make_shared<group_options>();  // one command runs per invocation

  CLI::App* list =
      add_command(group, "list", "List the groups of every broker", o, exit_code, run_list);
  add_output_option(list, *o);
  list->footer("JSON: {groups: [{group_id, state, members, coordinator_id}]}");

  CLI::App* describe =
      add_command(group, "describe", "A group's state, members and per-partition lag", o, exit_code,
                  run_describe);
  describe->add_option("group", o->group, "Group id")->required();
  add_output_option(describe, *o);
  describe->footer(
      "LAG = HIGH-WATERMARK - COMMITTED (from the log start when nothing is committed); '-' = "
      "unknown.\n"
      "JSON: {group_id, state, assignor, group_epoch, assignment_epoch, coordinator_id, "
      "rebalances,\n"
      "members: [{member_id, instance_id, client_id, host, member_epoch, state, "
      "subscribed_topics,\n"
      "subscribed_pattern, assignment: [{topic, partition}], target_assignment}], offsets: "
      "[{topic,\n"
      "partition, committed_offset, high_watermark, lag, owner_member_id, metadata}]} (-1 = "
      "none/unknown)");

  CLI::App* reset =
      add_command(group, "reset-offsets",
                  "Plan (and with --execute apply) new committed offsets for an empty group", o,
                  exit_code, run_reset);
  reset->add_option("group", o->group, "Group id")->required();
  reset->add_option("--topic,-t", o->topics, "Topic T (every partition) or T:P,P,... (repeatable)");
  reset->add_flag("--to-earliest", o->to_earliest, "Reset to the log start");
  reset->add_flag("--to-latest", o->to_latest, "Reset to the high watermark");
  reset->add_option("--to-offset", o->to_offset, "Reset to this offset");
  reset->add_option(
      "--to-datetime", o->to_datetime,
      "Reset to the first record at or after this ISO-8601 time (e.g. 2026-11-22T10:00:00Z)");
  reset->add_option(
      "--by-duration", o->by_duration,
      "Reset to the first record at or after now minus this ISO-8601 duration (PT1H, PT30M, P1D)");
  reset->add_option("--shift-by", o->shift_by, "Move the committed offset by N (negative: back)");
  reset->add_option("--from-file", o->from_file,
                    "CSV file of topic,partition,offset lines (Kafka's format)");
  reset->add_flag("--execute", o->execute,
                  "Apply the plan (refused while the group has active members)");
  reset->add_flag("--dry-run", o->dry_run, "Only print the plan (the default)");
  add_output_option(reset, *o);
  reset->footer(
      "Give exactly one mode. New offsets are clamped to [log start, high watermark] (a note on\n"
      "stderr says so). Without --execute nothing changes. A group that does not exist yet is\n"
      "created by --execute. JSON: {group_id, executed, partitions: [{topic, partition,\n"
      "current_offset, requested_offset, new_offset, note}]} (current_offset -1: none).");

  CLI::App* del = add_command(group, "delete", "Delete an empty group and its committed offsets", o,
                              exit_code, run_delete);
  del->add_option("group", o->group, "Group id")->required();

  CLI::App* del_offsets =
      add_command(group, "delete-offsets", "Delete a group's committed offsets of topics", o,
                  exit_code, run_delete_offsets);
  del_offsets->add_option("group", o->group, "Group id")->required();
  del_offsets
      ->add_option("--topic,-t", o->topics, "Topic T (every partition) or T:P,P,... (repeatable)")
      ->required();
}

}  // namespace kappa::kappactl
