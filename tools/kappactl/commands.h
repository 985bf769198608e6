// Command groups of kappactl. Each group lives in its own file
// (<group>_commands.cc) and adds its subcommands to the root app; main.cc
// only parses. CLI::App is forward-declared so that CLI11, a heavy header,
// is compiled only where commands are wired.
#pragma once

namespace CLI {
class App;
}

namespace kappa::kappactl {

// Adds `log dump` and `log verify` (offline segment inspection). A command
// that runs stores its exit code (exit_codes.h) in `exit_code`, which must
// outlive parsing.
void add_log_commands(CLI::App& root, int& exit_code);

}  // namespace kappa::kappactl
