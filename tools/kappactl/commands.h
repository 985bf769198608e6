// Command groups of kappactl. Each group lives in its own file
// (<group>_commands.cc) and adds its subcommands to the root app; main.cc
// only parses. CLI::App is forward-declared so that CLI11, a heavy header,
// is compiled only where commands are wired.
//
// A command that runs stores its exit code (exit_codes.h) in `exit_code`,
// which must outlive parsing.
#pragma once

namespace CLI {
class App;
}

namespace kappa::kappactl {

// `log dump` and `log verify` (offline segment inspection, no broker).
void add_log_commands(CLI::App& root, int& exit_code);
// `topic create|list|describe|delete|alter-config|reassign`.
void add_topic_commands(CLI::App& root, int& exit_code);
// `cluster describe|rebalance-leaders`.
void add_cluster_commands(CLI::App& root, int& exit_code);
// `group list|describe|reset-offsets|delete|delete-offsets`.
void add_group_commands(CLI::App& root, int& exit_code);
// `produce TOPIC` (records from stdin lines).
void add_produce_command(CLI::App& root, int& exit_code);
// `consume TOPIC`.
void add_consume_command(CLI::App& root, int& exit_code);
// `offsets TOPIC` and `delete-records TOPIC`.
void add_offsets_commands(CLI::App& root, int& exit_code);
// `replay --from-topic A --to-topic B --from ...` (copy a range of history).
void add_replay_command(CLI::App& root, int& exit_code);

}  // namespace kappa::kappactl
