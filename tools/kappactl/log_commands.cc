// The `log` command group: offline inspection of segment files. These
// commands read files directly and need no running broker.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "tools/kappactl/commands.h"
#include "tools/kappactl/log_dump.h"
#include "tools/kappactl/log_verify.h"

namespace kappa::kappactl {
namespace {

constexpr const char* kLogHelp =
    "  log dump PATH [--records] [--output text|json]\n"
    "      print every batch (and with --records every record) of a segment file or of a\n"
    "      partition directory; damage is reported on stderr\n"
    "  log verify PATH [--output text|json]\n"
    "      check a partition directory as recovery would: exit 0 clean, 1 torn tail,\n"
    "      2 corruption, 3 missing or unreadable path\n"
    "Run `kappactl log <command> --help` for details.";

constexpr const char* kDumpHelp =
    "Print every batch of a segment file (*.log), or of every segment of a partition\n"
    "directory in offset order: base offset, last offset, record count, max timestamp,\n"
    "size, byte position and CRC (ok or BAD).\n"
    "Damage does not stop the dump: a bad CRC is printed as BAD and the dump goes on; a\n"
    "truncated or garbled tail is reported on stderr and ends that segment.\n"
    "With --output json each batch is one JSON object on its own line with the fields\n"
    "base_offset, last_offset, count, max_timestamp, size_bytes, crc_ok and, with\n"
    "--records, records: [{offset, timestamp, key, value, headers: [{key, value}]}];\n"
    "key, value and header values are base64 strings or null, header keys are strings.\n"
    "records is null for a batch whose records cannot be read.\n"
    "Exit: 0 all batches valid, 1 damage found (details on stderr), 3 unreadable path.";

constexpr const char* kVerifyHelp =
    "Check a partition directory (or one segment file) the way recovery does: every\n"
    "batch's header and CRC, from the first byte of the first segment.\n"
    "Exit: 0 clean; 1 torn tail (invalid bytes at the very end with nothing valid after\n"
    "them: a crash mid-write, which recovery truncates); 2 corruption (damage followed by\n"
    "valid data, or damage in a non-final segment: recovery refuses to truncate it);\n"
    "3 the path is missing or unreadable. Damage is reported on stderr as one line\n"
    "naming the segment file, the byte position and what is wrong.";

}  // namespace

void add_log_commands(CLI::App& root, int& exit_code) {
  CLI::App* log = root.add_subcommand("log", "Offline inspection of segment files (no broker needed)");
  log->require_subcommand(1);

  // The options live as long as the app: CLI11 writes into them during parse
  // and the callbacks read them afterwards.
  auto dump = std::make_shared<dump_options>();
  CLI::App* dump_cmd = log->add_subcommand("dump", "Print the batches (and records) of a segment or partition");
  dump_cmd->footer(kDumpHelp);
  dump_cmd->add_option("path", dump->path, "Segment file (*.log) or partition directory")
      ->required();
  dump_cmd->add_flag("--records", dump->records,
                     "Also print each record: offset, timestamp, key, value, headers");
  auto dump_output = std::make_shared<std::string>("text");
  dump_cmd->add_option("--output,-o", *dump_output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  dump_cmd->callback([dump, dump_output, &exit_code] {
    dump->json = *dump_output == "json";
    exit_code = run_log_dump(*dump, stdout, stderr);
  });

  auto verify = std::make_shared<verify_options>();
  auto verify_output = std::make_shared<std::string>("text");
  CLI::App* verify_cmd = log->add_subcommand("verify", "Check a partition directory for torn tails and corruption");
  verify_cmd->footer(kVerifyHelp);
  verify_cmd->add_option("path", verify->path, "Partition directory (or one segment file)")
      ->required();
  verify_cmd->add_option("--output,-o", *verify_output,
                         "Output format: text (default) or json (the scan report as one object)")
      ->check(CLI::IsMember({"text", "json"}));
  verify_cmd->callback([verify, verify_output, &exit_code] {
    verify->json = *verify_output == "json";
    exit_code = run_log_verify(*verify, stdout, stderr);
  });
  log->footer(kLogHelp);  // after the subcommands, which would otherwise inherit it
}

}  // namespace kappa::kappactl
