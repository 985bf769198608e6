// kappactl: Kappa's admin and data CLI. Each command group is wired in its
// own <group>_commands.cc (see commands.h); this file only parses.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/kappactl/commands.h"
#include "tools/kappactl/exit_codes.h"

namespace {

constexpr const char* kFooter =
    "Commands:\n"
    "  log dump PATH [--records] [--output text|json]   print batches/records of a segment\n"
    "                                                   file or a partition directory\n"
    "  log verify PATH [--output text|json]             check a partition for torn tails and\n"
    "                                                   corruption\n"
    "  topic create|list|describe|delete|alter-config   manage topics and their configs\n"
    "  cluster describe                                 brokers and controller\n"
    "  group list|describe|reset-offsets|delete|...     consumer groups, lag, offset resets\n"
    "  produce TOPIC                                    one record per stdin line\n"
    "  consume TOPIC                                    print records (kcat-style --format)\n"
    "  offsets TOPIC [--time T]                         earliest/latest (or at-time) offsets\n"
    "  delete-records TOPIC --partition P --before O    move the log start offset\n"
    "  replay --from-topic A --to-topic B --from X      copy a range of history (offsets or\n"
    "                                                   times) into another topic\n"
    "Broker commands take --bootstrap HOST:PORT (default $KAPPA_BOOTSTRAP, else\n"
    "127.0.0.1:9092) and --timeout-ms. Run `kappactl <command> --help` for details.\n"
    "Exit codes: 0 ok; 1 the request failed (broker commands), torn tail (log verify) or\n"
    "damage found (log dump); 2 corruption; 3 usage error, missing path or I/O failure.\n"
    "Every failure prints one line on stderr.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("kappactl: admin and data CLI for Kappa, the distributed event-log broker",
               "kappactl");
  app.require_subcommand(1);
  int exit_code = kappa::kappactl::kExitOk;
  kappa::kappactl::add_topic_commands(app, exit_code);
  kappa::kappactl::add_cluster_commands(app, exit_code);
  kappa::kappactl::add_group_commands(app, exit_code);
  kappa::kappactl::add_produce_command(app, exit_code);
  kappa::kappactl::add_consume_command(app, exit_code);
  kappa::kappactl::add_offsets_commands(app, exit_code);
  kappa::kappactl::add_replay_command(app, exit_code);
  kappa::kappactl::add_log_commands(app, exit_code);
  // Set after the groups are added: CLI11 copies a parent's footer into
  // subcommands created later.
  app.footer(kFooter);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0 after printing.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "kappactl: %s (run with --help for usage)\n", e.what());
    return kappa::kappactl::kExitError;
  }
  return exit_code;
}
