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
    "Run `kappactl <command> --help` for details.\n"
    "Exit codes: 0 ok; 1 torn tail (log verify) or damage found (log dump); 2 corruption;\n"
    "3 usage error, missing path or I/O failure. Every failure prints one line on stderr.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("kappactl: admin and data CLI for Kappa, the distributed event-log broker",
               "kappactl");
  app.require_subcommand(1);
  int exit_code = kappa::kappactl::kExitOk;
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
