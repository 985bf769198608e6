// `kappa-bench storage`: what the storage engine costs against the raw disk
// it runs on, measured in one run so both see the same machine state.
//
// Phases (each writes into its own fresh directory under
// <dir>/kappa-bench-<pid>/ and removes it afterwards unless keep):
//   raw     sequential write() of batch_bytes chunks, total_bytes in all:
//           "buffered" with one fdatasync at the end, "synced" with an
//           fdatasync after every chunk.
//   append  RecordBatch v2 batches (prebuilt, copied into a reused buffer)
//           appended to a storage::log: flush=interval (one final flush, timed)
//           and flush=always, the latter also with several appender threads
//           sharing fsyncs (group commit).
//   read    the flush=interval log read back through log::read (mmap), every
//           batch validated (header and CRC32C), twice.
//   reopen  a data dir of reopen_bytes across a few partitions, closed
//           cleanly by log_manager::close, then log_manager::open timed with
//           its files evicted from the page cache and again warm.
// They run in the order raw buffered, append flush=interval (and read), raw
// synced, append flush=always (1 thread, then N threads), reopen: each
// append phase right after the raw figure it is judged against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "proto/format/result.h"
#include "tools/kappa_bench/bench_util.h"

namespace kappa::bench {

struct storage_bench_options {
  std::string dir;
  uint64_t total_bytes = uint64_t{1} << 30;
  uint64_t record_bytes = 1024;
  uint64_t batch_bytes = 64 * 1024;
  bool flush_interval = true;
  bool flush_always = true;
  int always_threads = 4;   // 0 or 1: skip the group-commit run
  bool read = false;
  uint64_t reopen_bytes = 0;  // 0: skip the reopen phase
  bool json = false;          // JSON on stdout; human lines on stderr
  bool keep = false;
};

struct append_figures {
  throughput t;
  int threads = 1;
};

struct read_figures {
  throughput first_pass;   // a fresh log::read mapping of page-cached data
  throughput second_pass;  // the same again
  int64_t batches = 0;
};

struct reopen_figures {
  uint64_t bytes = 0;
  int partitions = 0;
  int segments = 0;
  double cold_open_s = 0;  // after posix_fadvise(DONTNEED) on every file
  double warm_open_s = 0;
  double close_s = 0;      // the clean close before the cold open
};

struct storage_bench_results {
  uint64_t batch_size_bytes = 0;  // the size of one built batch
  int records_per_batch = 0;
  std::optional<throughput> raw_buffered;
  std::optional<throughput> raw_synced;
  std::optional<append_figures> append_interval;
  std::optional<append_figures> append_always;
  std::optional<append_figures> append_always_threads;
  std::optional<read_figures> read;
  std::optional<reopen_figures> reopen;
};

// Runs every selected phase; human lines (progress included) go to `human`.
Result<storage_bench_results> run_storage_bench(const storage_bench_options& options,
                                                std::FILE* human);

// The summary table, for people.
void print_summary(const storage_bench_options& options, const storage_bench_results& r,
                   std::FILE* out);
// One JSON object (one line) with every figure that was measured.
std::string results_json(const storage_bench_options& options, const storage_bench_results& r);

}  // namespace kappa::bench
