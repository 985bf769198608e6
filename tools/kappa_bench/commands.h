// Subcommands of kappa-bench, one file each (<name>_command.cc); main.cc only
// parses. CLI::App is forward-declared to keep CLI11 out of this header.
#pragma once

namespace CLI {
class App;
}

namespace kappa::bench {

// Adds `storage`: raw-disk baseline, log append, mmap read and reopen
// figures in one run. The exit code of a run is stored in `exit_code`.
void add_storage_command(CLI::App& root, int& exit_code);
// Adds `produce`, `consume` and `e2e` (against a running kappad, through
// libkappa).
void add_client_commands(CLI::App& root, int& exit_code);

}  // namespace kappa::bench
