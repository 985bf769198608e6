// kappa-bench: Kappa's performance tool. Each workload is a subcommand in its
// own file (see commands.h); this file only parses.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/kappa_bench/commands.h"

int main(int argc, char** argv) {
  CLI::App app("kappa-bench: performance tool for Kappa", "kappa-bench");
  app.footer(
      "Subcommands:\n"
      "  storage   local storage engine: raw disk baseline, log append (flush=interval and\n"
      "            flush=always), mmap read, reopen of a cleanly closed data dir\n"
      "  produce   producer throughput and latency against kappad (--baseline: vs raw gRPC)\n"
      "  consume   replay of a topic from the beginning (--baseline: vs raw gRPC)\n"
      "  e2e       end-to-end latency at a fixed rate\n"
      "Run `kappa-bench <subcommand> --help` for details. Exit: 0 ok, 1 the benchmark\n"
      "failed (one line on stderr says why), 2 usage error.");
  app.require_subcommand(1);
  int exit_code = 0;
  kappa::bench::add_storage_command(app, exit_code);
  kappa::bench::add_client_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "kappa-bench: %s (run with --help for usage)\n", e.what());
    return 2;
  }
  return exit_code;
}
