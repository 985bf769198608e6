// The `topic` command group: create, list, describe, delete, alter-config,
// each one Admin RPC (describe also reads the topic's configs), and
// reassign (one RPC, then polls DescribeTopics until the move is done).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <memory>

#include "tools/common/output.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

using tools::json_string;

struct topic_options {
  broker_options broker;
  std::string name;
  int32_t partitions = 0;
  int32_t replication_factor = 0;
  std::vector<std::string> configs;
  std::vector<std::string> remove;
  std::string output = "text";
  int32_t partition = 0;
  std::vector<int32_t> replicas;
};

std::string int_list(const std::vector<int32_t>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + std::to_string(v[i]);
  return out;
}

// One status per topic comes back; the command fails on the first error.
int check_topic_results(const std::string& command, const Result<std::vector<topic_status>>& r) {
  if (!r.ok()) return fail(command, r.status());
  for (const topic_status& t : *r) {
    if (!t.status.ok()) return fail(command, "topic '" + t.name + "': " + error_text(t.status));
  }
  return kExitOk;
}

int run_create(const topic_options& o) {
  auto configs = parse_key_values(o.configs, "--config");
  if (!configs.ok()) return fail("topic create", configs.status());
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("topic create", a.status());
  new_topic t{o.name, o.partitions, o.replication_factor, *configs};
  int rc = check_topic_results("topic create", (*a)->create_topics({t}));
  if (rc != kExitOk) return rc;
  auto described = describe_topic(**a, o.name);
  size_t partitions = described.ok() ? described->partitions.size() : size_t(o.partitions);
  std::printf("created topic %s with %zu partition%s\n", o.name.c_str(), partitions,
              partitions == 1 ? "" : "s");
  return kExitOk;
}

int run_list(const topic_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("topic list", a.status());
  auto topics = (*a)->describe_topics({});
  if (!topics.ok()) return fail("topic list", topics.status());
  std::sort(topics->begin(), topics->end(),
            [](const topic_description& x, const topic_description& y) { return x.name < y.name; });
  if (o.output == "json") {
    std::string j = "{\"topics\":[";
    for (size_t i = 0; i < topics->size(); ++i) {
      const topic_description& t = (*topics)[i];
      j += std::string(i ? "," : "") + "{\"name\":" + json_string(t.name) +
           ",\"partitions\":" + std::to_string(t.partitions.size()) + "}";
    }
    std::printf("%s]}\n", j.c_str());
    return kExitOk;
  }
  for (const topic_description& t : *topics) std::printf("%s\n", t.name.c_str());
  return kExitOk;
}

std::string partition_json(const partition_description& p) {
  return "{\"partition\":" + std::to_string(p.partition) +
         ",\"leader\":" + std::to_string(p.leader_id) +
         ",\"leader_epoch\":" + std::to_string(p.leader_epoch) + ",\"replicas\":[" +
         int_list(p.replicas, ",") + "],\"in_sync_replicas\":[" +
         int_list(p.in_sync_replicas, ",") +
         "],\"log_start_offset\":" + std::to_string(p.log_start_offset) +
         ",\"high_watermark\":" + std::to_string(p.high_watermark) +
         ",\"log_end_offset\":" + std::to_string(p.log_end_offset) +
         ",\"size_bytes\":" + std::to_string(p.size_bytes) + "}";
}

int run_describe(const topic_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("topic describe", a.status());
  auto t = describe_topic(**a, o.name);
  if (!t.ok()) return fail("topic describe", t.status());
  std::sort(t->partitions.begin(), t->partitions.end(),
            [](const auto& x, const auto& y) { return x.partition < y.partition; });
  auto configs = (*a)->describe_configs({o.name});
  if (!configs.ok()) return fail("topic describe", configs.status());
  std::vector<config_entry> entries;
  for (topic_configs& c : *configs) {
    if (c.topic != o.name) continue;
    if (!c.status.ok())
      return fail("topic describe", "configs of '" + o.name + "': " + error_text(c.status));
    entries = std::move(c.entries);
  }
  if (o.output == "json") {
    std::string j = "{\"name\":" + json_string(t->name) +
                    ",\"internal\":" + (t->is_internal ? "true" : "false") + ",\"partitions\":[";
    for (size_t i = 0; i < t->partitions.size(); ++i)
      j += (i ? "," : "") + partition_json(t->partitions[i]);
    j += "],\"configs\":{";
    for (size_t i = 0; i < entries.size(); ++i) {
      j += (i ? "," : "") + json_string(entries[i].name) + ":" + json_string(entries[i].value);
    }
    std::printf("%s}}\n", j.c_str());
    return kExitOk;
  }
  std::printf("topic %s: %zu partitions\n", t->name.c_str(), t->partitions.size());
  for (const partition_description& p : t->partitions) {
    std::printf(
        "  partition %d  leader %d  epoch %d  replicas [%s]  isr [%s]  log_start_offset %lld"
        "  high_watermark %lld  log_end_offset %lld  size_bytes %lld\n",
        p.partition, p.leader_id, p.leader_epoch, int_list(p.replicas, " ").c_str(),
        int_list(p.in_sync_replicas, " ").c_str(), static_cast<long long>(p.log_start_offset),
        static_cast<long long>(p.high_watermark), static_cast<long long>(p.log_end_offset),
        static_cast<long long>(p.size_bytes));
  }
  if (!entries.empty()) std::printf("configs:\n");
  for (const config_entry& e : entries) {
    std::printf("  %s=%s%s\n", e.name.c_str(), e.is_sensitive ? "(sensitive)" : e.value.c_str(),
                e.is_default ? " (default)" : "");
  }
  return kExitOk;
}

int run_delete(const topic_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("topic delete", a.status());
  int rc = check_topic_results("topic delete", (*a)->delete_topics({o.name}));
  if (rc == kExitOk) std::printf("deleted topic %s\n", o.name.c_str());
  return rc;
}

int run_alter_config(const topic_options& o) {
  if (o.configs.empty() && o.remove.empty()) {
    return fail("topic alter-config", "nothing to change: give --config k=v or --delete k");
  }
  auto configs = parse_key_values(o.configs, "--config");
  if (!configs.ok()) return fail("topic alter-config", configs.status());
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("topic alter-config", a.status());
  config_change change{o.name, *configs, o.remove};
  int rc = check_topic_results("topic alter-config", (*a)->alter_configs({change}));
  if (rc == kExitOk) std::printf("altered configs of topic %s\n", o.name.c_str());
  return rc;
}

int run_reassign(const topic_options& o) {
  const std::string cmd = "topic reassign";
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail(cmd, a.status());
  Status st = (*a)->reassign_partition({o.name, o.partition}, o.replicas);
  if (!st.ok()) return fail(cmd, o.name + "-" + std::to_string(o.partition) + ": " + error_text(st));
  // The leader moves the membership one step at a time; wait (bounded) for
  // the image to show the new set.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(o.broker.timeout_ms);
  std::vector<int32_t> last;
  for (;;) {
    auto t = describe_topic(**a, o.name);
    if (t.ok()) {
      for (const partition_description& p : t->partitions) {
        if (p.partition != o.partition) continue;
        last = p.replicas;
        if (p.target_replicas.empty() && p.replicas == o.replicas) {
          std::printf("reassigned %s-%d to replicas %s\n", o.name.c_str(), o.partition,
                      int_list(p.replicas, ",").c_str());
          return kExitOk;
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail(cmd, o.name + "-" + std::to_string(o.partition) + ": the move to " +
                       int_list(o.replicas, ",") + " did not finish within " +
                       std::to_string(o.broker.timeout_ms) + " ms (replicas now " +
                       int_list(last, ",") + "; it continues in the background)");
}

CLI::App* add_command(CLI::App* topic, const char* name, const char* help,
                      std::shared_ptr<topic_options> o, int& exit_code,
                      int (*run)(const topic_options&)) {
  CLI::App* cmd = topic->add_subcommand(name, help);
  add_broker_options(*cmd, o->broker);
  cmd->callback([o, &exit_code, run] { exit_code = run(*o); });
  return cmd;
}

void add_output_option(CLI::App* cmd, topic_options& o) {
  cmd->add_option("--output,-o", o.output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

void add_topic_commands(CLI::App& root, int& exit_code) {
  CLI::App* topic =
      root.add_subcommand("topic", "Create, list, describe, delete topics; alter their configs");
  topic->require_subcommand(1);
  auto o = std::make_shared<topic_options>();  // one command runs per invocation

  CLI::App* create = add_command(topic, "create", "Create a topic", o, exit_code, run_create);
  create->add_option("name", o->name, "Topic name ([a-zA-Z0-9._-], at most 249 characters)")
      ->required();
  create->add_option("--partitions,-p", o->partitions, "Partition count (default: the broker's)")
      ->check(CLI::Range(1, 1000000));
  create
      ->add_option("--replication-factor,-r", o->replication_factor,
                   "Replicas per partition (default: the broker's)")
      ->check(CLI::Range(1, 1000));
  create->add_option("--config,-c", o->configs,
                     "Topic config key=value (repeatable), e.g. retention.ms=60000");

  CLI::App* list =
      add_command(topic, "list", "List topics (one name per line)", o, exit_code, run_list);
  add_output_option(list, *o);

  CLI::App* describe =
      add_command(topic, "describe", "Describe a topic: partitions, offsets, configs", o, exit_code,
                  run_describe);
  describe->add_option("name", o->name, "Topic name")->required();
  add_output_option(describe, *o);
  describe->footer(
      "JSON: {name, internal, partitions: [{partition, leader, leader_epoch, replicas,\n"
      "in_sync_replicas, log_start_offset, high_watermark, log_end_offset, size_bytes}],\n"
      "configs: {key: value}}");

  CLI::App* del =
      add_command(topic, "delete", "Delete a topic and its data", o, exit_code, run_delete);
  del->add_option("name", o->name, "Topic name")->required();

  CLI::App* alter = add_command(topic, "alter-config", "Set (or reset) configs of a topic", o,
                                exit_code, run_alter_config);
  alter->add_option("name", o->name, "Topic name")->required();
  alter->add_option("--config,-c", o->configs, "Config to set, key=value (repeatable)");
  alter->add_option("--delete", o->remove, "Config to reset to the broker default (repeatable)");

  CLI::App* reassign = add_command(
      topic, "reassign",
      "Move a partition's replicas to other brokers, online; waits (up to --timeout-ms) "
      "until the move is done",
      o, exit_code, run_reassign);
  reassign->add_option("name", o->name, "Topic name")->required();
  reassign->add_option("--partition,-p", o->partition, "Partition")->required()->check(
      CLI::Range(0, 1000000));
  reassign
      ->add_option("--replicas", o->replicas,
                   "The new replica set, broker ids separated by commas (the first becomes the "
                   "preferred leader), e.g. 1,2,4")
      ->required()
      ->delimiter(',');
}

}  // namespace kappa::kappactl
