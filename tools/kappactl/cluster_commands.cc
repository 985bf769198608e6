// The `cluster` command group: `cluster describe` (brokers and controller).
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
};

int run_describe(const cluster_options& o) {
  auto a = connect_admin(o.broker);
  if (!a.ok()) return fail("cluster describe", a.status());
  auto c = (*a)->describe_cluster();
  if (!c.ok()) return fail("cluster describe", c.status());
  std::sort(c->brokers.begin(), c->brokers.end(),
            [](const auto& x, const auto& y) { return x.id < y.id; });
  if (o.output == "json") {
    std::string j = "{\"cluster_id\":" + tools::json_string(c->cluster_id) +
                    ",\"controller\":" + std::to_string(c->controller_id) + ",\"brokers\":[";
    for (size_t i = 0; i < c->brokers.size(); ++i) {
      const broker_description& b = c->brokers[i];
      j += std::string(i ? "," : "") + "{\"id\":" + std::to_string(b.id) +
           ",\"address\":" + tools::json_string(b.address) +
           ",\"alive\":" + (b.alive ? "true" : "false") + "}";
    }
    std::printf("%s]}\n", j.c_str());
    return kExitOk;
  }
  std::printf("cluster %s: controller %d, %zu broker%s\n", c->cluster_id.c_str(), c->controller_id,
              c->brokers.size(), c->brokers.size() == 1 ? "" : "s");
  for (const broker_description& b : c->brokers) {
    std::printf("  broker %d  %s  %s\n", b.id, b.address.c_str(), b.alive ? "alive" : "down");
  }
  return kExitOk;
}

}  // namespace

void add_cluster_commands(CLI::App& root, int& exit_code) {
  CLI::App* cluster = root.add_subcommand("cluster", "Inspect the cluster");
  cluster->require_subcommand(1);
  auto o = std::make_shared<cluster_options>();
  CLI::App* describe = cluster->add_subcommand("describe", "List the brokers and the controller");
  add_broker_options(*describe, o->broker);
  describe->add_option("--output,-o", o->output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  describe->footer("JSON: {cluster_id, controller, brokers: [{id, address, alive}]}");
  describe->callback([o, &exit_code] { exit_code = run_describe(*o); });
}

}  // namespace kappa::kappactl
