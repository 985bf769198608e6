// CLI wiring of `kappa-bench storage`; the work is in storage_bench.cc.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "tools/kappa_bench/commands.h"
#include "tools/kappa_bench/storage_bench.h"

namespace kappa::bench {

void add_storage_command(CLI::App& root, int& exit_code) {
  auto o = std::make_shared<storage_bench_options>();
  auto flush = std::make_shared<std::string>("both");
  CLI::App* cmd = root.add_subcommand("storage", "Benchmark the local storage engine against the raw disk");
  cmd->footer(
      "Measures in one run: (a) raw disk: sequential write() of --batch-bytes chunks, with one\n"
      "fdatasync at the end (raw buffered) and with one after every chunk (raw synced);\n"
      "(b) storage::log append of prebuilt RecordBatch v2 batches with flush=interval (one\n"
      "final flush, timed) and flush=always (also from --always-threads threads: group commit);\n"
      "(c) with --read: the flush=interval log read back through log::read (mmap), validating\n"
      "every batch's header and CRC32C, two passes, from the page cache; (d) with\n"
      "--reopen-bytes: log_manager::open of a cleanly closed data dir of that size (4\n"
      "partitions, default segment size), timed cold (files evicted with fadvise) and warm.\n"
      "Sizes accept suffixes: 4MiB, 1GiB, 64KiB (k/m/g alone are also powers of 1024).\n"
      "Everything is written under DIR/kappa-bench-<pid>/ and removed at the end unless --keep.\n"
      "Output: progress and human lines, then a summary with the targets; with --json the\n"
      "human lines go to stderr and stdout holds one JSON object.");
  cmd->add_option("--dir", o->dir, "Directory to write in (on the disk to measure)")->required();
  cmd->add_option("--total-bytes", o->total_bytes, "Bytes written per phase (default 1 GiB)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--record-bytes", o->record_bytes, "Value bytes per record (default 1024)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--batch-bytes", o->batch_bytes,
                  "Bytes per batch and per raw write() (default 65536)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--flush", *flush, "Append phases: always, interval or both (default)")
      ->check(CLI::IsMember({"always", "interval", "both"}));
  cmd->add_option("--always-threads", o->always_threads,
                  "Appender threads for the group-commit flush=always run; 0 or 1 skips it (default 4)")
      ->check(CLI::Range(0, 256));
  cmd->add_flag("--read", o->read, "Also measure reading the log back (mmap, page cache)");
  cmd->add_option("--reopen-bytes", o->reopen_bytes,
                  "Also time reopening a cleanly closed data dir of this many bytes (default 0: skip)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--json", o->json, "Print the results as one JSON object on stdout");
  cmd->add_flag("--keep", o->keep, "Keep the files written (default: remove them)");
  cmd->callback([o, flush, &exit_code] {
    o->flush_interval = *flush != "always";
    o->flush_always = *flush != "interval";
    std::FILE* human = o->json ? stderr : stdout;
    auto results = run_storage_bench(*o, human);
    if (!results.ok()) {
      std::fprintf(stderr, "kappa-bench storage: %s\n", results.status().message().c_str());
      exit_code = 1;
      return;
    }
    print_summary(*o, *results, human);
    if (o->json) std::printf("%s\n", results_json(*o, *results).c_str());
    exit_code = 0;
  });
}

}  // namespace kappa::bench
