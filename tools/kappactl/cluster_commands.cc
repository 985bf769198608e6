// The `cluster` command group: `cluster describe` (brokers, liveness, the
// controller leader, and every partition's leader, epoch, replicas and
// in-sync replicas) and `cluster rebalance-leaders` (asks every live broker
// to hand its partitions to their preferred replicas).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>

#include "tools/common/output.h"
#include "tools/kappactl/broker_options.h"
#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

struct cluster_options {
  broker_options broker;
  std::string output = "text";
  int64_t transfer_timeout_ms = 10000;
};

std::string join_ints(const std::vector<int32_t>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + std::to_string(v[i]);
  return out;
}

int run_describe(const cluster_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("cluster describe", a.status());
  auto c = (*a)->describe_cluster();
  if (!c.ok()) return fail("cluster describe", c.status());
  auto topics = (*a)->describe_topics({}, /*include_internal=*/true);
  if (!topics.ok()) return fail("cluster describe", topics.status());
  std::sort(c->brokers.begin(), c->brokers.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  std::sort(topics->begin(), topics->end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  if (o.output == "json") {
    std::string j = "{\"cluster_id\":" + tools::json_string(c->cluster_id) +
                    ",\"controller\":" + std::to_string(c->controller_id) + ",\"brokers\":[";
    for (size_t i = 0; i < c->brokers.size(); ++i) {
      const broker_description& b = c->brokers[i];
      j += std::string(i ? "," : "") + "{\"id\":" + std::to_string(b.id) +
           ",\"address\":" + tools::json_string(b.address) +
           ",\"alive\":" + (b.alive ? "true" : "false") + "}";
    }
    j += "],\"partitions\":[";
    bool first = true;
    for (const topic_description& t : *topics) {
      for (const partition_description& p : t.partitions) {
        j += std::string(first ? "" : ",") + "{\"topic\":" + tools::json_string(t.name) +
             ",\"partition\":" + std::to_string(p.partition) +
             ",\"leader\":" + std::to_string(p.leader_id) +
             ",\"leader_epoch\":" + std::to_string(p.leader_epoch) + ",\"replicas\":[" +
             join_ints(p.replicas, ",") + "],\"in_sync_replicas\":[" +
             join_ints(p.in_sync_replicas, ",") + "],\"target_replicas\":[" +
             join_ints(p.target_replicas, ",") + "]}";
        first = false;
      }
    }
    std::printf("%s]}\n", j.c_str());
    return kExitOk;
  }
  std::printf("cluster %s: controller %d, %zu broker%s\n", c->cluster_id.c_str(), c->controller_id,
              c->brokers.size(), c->brokers.size() == 1 ? "" : "s");
  for (const broker_description& b : c->brokers) {
    std::printf("  broker %d  %s  %s\n", b.id, b.address.c_str(), b.alive ? "alive" : "down");
  }
  for (const topic_description& t : *topics) {
    for (const partition_description& p : t.partitions) {
      std::printf("  %s-%d  leader %d  epoch %d  replicas %s  in-sync %s%s\n", t.name.c_str(),
                  p.partition, p.leader_id, p.leader_epoch, join_ints(p.replicas, ",").c_str(),
                  join_ints(p.in_sync_replicas, ",").c_str(),
                  p.target_replicas.empty()
                      ? ""
                      : ("  moving to " + join_ints(p.target_replicas, ",")).c_str());
    }
  }
  return kExitOk;
}

int run_rebalance(const cluster_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("cluster rebalance-leaders", a.status());
  auto moves = (*a)->rebalance_leaders(int32_t(o.transfer_timeout_ms));
  if (!moves.ok()) return fail("cluster rebalance-leaders", moves.status());
  int failed = 0;
  std::string first_error;
  for (const leader_move& m : *moves) {
    if (m.tp.topic.empty()) {
      ++failed;
      if (first_error.empty()) first_error = error_text(m.status);
      continue;
    }
    if (m.status.ok()) {
      std::printf("%s-%d: leader %d -> %d\n", m.tp.topic.c_str(), m.tp.partition, m.broker_id,
                  m.new_leader);
    } else {
      ++failed;
      if (first_error.empty()) {
        first_error = m.tp.topic + "-" + std::to_string(m.tp.partition) + ": " + error_text(m.status);
      }
    }
  }
  if (failed > 0) {
    return fail("cluster rebalance-leaders",
                std::to_string(failed) + " transfer" + (failed == 1 ? "" : "s") +
                    " failed; first: " + first_error);
  }
  if (moves->empty()) std::printf("every leader is already its preferred replica (or not in sync)\n");
  return kExitOk;
}

}  // namespace

void add_cluster_commands(CLI::App& root, int& exit_code) {
  CLI::App* cluster = root.add_subcommand("cluster", "Inspect and balance the cluster");
  cluster->require_subcommand(1);
  auto o = std::make_shared<cluster_options>();
  CLI::App* describe = cluster->add_subcommand(
      "describe", "List the brokers, the controller and every partition's leader and replicas");
  add_broker_options(*describe, o->broker);
  describe->add_option("--output,-o", o->output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  describe->footer(
      "JSON: {cluster_id, controller, brokers: [{id, address, alive}],\n"
      "partitions: [{topic, partition, leader, leader_epoch, replicas, in_sync_replicas,\n"
      "target_replicas}]}");
  describe->callback([o, &exit_code] { exit_code = run_describe(*o); });

  CLI::App* rebalance = cluster->add_subcommand(
      "rebalance-leaders",
      "Move each partition's leadership to its preferred replica (the first of its replica "
      "set) when that replica is in sync; asks every live broker");
  add_broker_options(*rebalance, o->broker);
  rebalance
      ->add_option("--transfer-timeout-ms", o->transfer_timeout_ms,
                   "How long each broker waits for its transfers (default 10000)")
      ->check(CLI::Range(1, 600000));
  rebalance->callback([o, &exit_code] { exit_code = run_rebalance(*o); });
}

}  // namespace kappa::kappactl
