// Runs the phases of `kappa-bench storage` in order (storage_bench.h).
#include "tools/kappa_bench/storage_bench.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "storage/env.h"
#include "storage/log.h"
#include "tools/kappa_bench/batch_pool.h"
#include "tools/kappa_bench/phases.h"

namespace kappa::bench {
namespace {

// Distinct batches in the pool: enough that consecutive appends differ,
// few enough that the pool stays in the CPU cache's neighbourhood.
constexpr int kPoolBatches = 16;

Status invalid(const std::string& what) {
  return Status(std::make_error_code(std::errc::invalid_argument), what);
}

// Removes the run's directory on every exit path unless --keep.
class scratch_dir {
 public:
  scratch_dir(std::string path, bool keep) : path_(std::move(path)), keep_(keep) {}
  ~scratch_dir() {
    if (!keep_) (void)storage::posix_env().remove_all(path_);
  }
  const std::string& path() const { return path_; }
  // Removes a finished phase's files early, so a run needs the disk space of
  // one phase at a time.
  void discard(const std::string& sub) const {
    if (!keep_) (void)storage::posix_env().remove_all(path_ + "/" + sub);
  }

 private:
  std::string path_;
  bool keep_;
};

void report(std::FILE* human, const char* what, const throughput& t) {
  std::fprintf(human, "%s: %.1f MiB in %.3f s = %.1f MB/s\n", what, t.bytes / 1048576.0,
               t.seconds, t.mb_per_s());
  std::fflush(human);
}

struct append_run {
  const char* name;  // directory and phase name
  storage::flush_policy flush;
  int threads;
  std::optional<append_figures> storage_bench_results::*slot;
};

}  // namespace

Result<storage_bench_results> run_storage_bench(const storage_bench_options& o, std::FILE* human) {
  if (o.dir.empty()) return invalid("--dir is required");
  if (o.total_bytes == 0 || o.record_bytes == 0 || o.batch_bytes == 0) {
    return invalid("--total-bytes, --record-bytes and --batch-bytes must be positive");
  }
  if (o.batch_bytes > (uint64_t{256} << 20)) return invalid("--batch-bytes is capped at 256 MiB");
  storage::env& env = storage::posix_env();
  scratch_dir scratch(o.dir + "/kappa-bench-" + std::to_string(::getpid()), o.keep);
  KAPPA_RETURN_IF_ERROR(env.create_dirs(scratch.path()));
  std::fprintf(human, "kappa-bench storage: working in %s\n", scratch.path().c_str());

  KAPPA_ASSIGN_OR_RETURN(batch_pool pool, build_batch_pool(o.record_bytes, o.batch_bytes, kPoolBatches));
  storage_bench_results r;
  r.batch_size_bytes = pool.batch_size_bytes();
  r.records_per_batch = pool.records_per_batch;
  std::fprintf(human, "batches: %d records of %llu bytes, %llu bytes per batch\n",
               pool.records_per_batch, static_cast<unsigned long long>(o.record_bytes),
               static_cast<unsigned long long>(r.batch_size_bytes));

  // Each append phase runs right after the raw phase it is compared with:
  // this disk's throughput drifts by 2x within minutes (a shared VM), and
  // adjacent measurements see the most similar conditions.
  auto raw_phase = [&](bool synced) -> Status {
    std::optional<throughput>& slot = synced ? r.raw_synced : r.raw_buffered;
    KAPPA_ASSIGN_OR_RETURN(slot, run_raw_write(scratch.path() + "/raw.dat", o.total_bytes,
                                               o.batch_bytes, synced, human));
    report(human, synced ? "raw synced write (fdatasync after every chunk)"
                         : "raw buffered write (one fdatasync at the end)", *slot);
    return Status();
  };
  auto append_phase = [&](const append_run& run) -> Status {
    storage::log_config config;
    config.flush = run.flush;
    config.max_batch_bytes = std::max(config.max_batch_bytes, pool.batch_size_bytes());
    std::string dir = scratch.path() + "/" + run.name + "/bench-0";
    KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<storage::log> log, storage::log::open(env, dir, config));
    std::string phase = std::string(run.name) + " (" + std::to_string(run.threads) + " thread" +
                        (run.threads > 1 ? "s)" : ")");
    KAPPA_ASSIGN_OR_RETURN(r.*run.slot, run_append(*log, pool, o.total_bytes, run.threads, phase, human));
    report(human, phase.c_str(), (r.*run.slot)->t);
    // The read phase reads the first log written, while it is in the page cache.
    if (o.read && !r.read) {
      KAPPA_ASSIGN_OR_RETURN(r.read, run_read(*log, human));
      std::fprintf(human, "read (log::read over mmap, header+CRC32C of every batch): %.1f MiB, "
                   "%lld batches: pass 1 %.2f GB/s, pass 2 %.2f GB/s\n",
                   r.read->first_pass.bytes / 1048576.0, static_cast<long long>(r.read->batches),
                   r.read->first_pass.gb_per_s(), r.read->second_pass.gb_per_s());
    }
    KAPPA_RETURN_IF_ERROR(log->close());
    log.reset();
    scratch.discard(run.name);
    return Status();
  };

  KAPPA_RETURN_IF_ERROR(raw_phase(/*synced=*/false));
  if (o.flush_interval) {
    KAPPA_RETURN_IF_ERROR(append_phase({"append-interval", storage::flush_policy::interval, 1,
                                        &storage_bench_results::append_interval}));
  }
  KAPPA_RETURN_IF_ERROR(raw_phase(/*synced=*/true));
  if (o.flush_always) {
    KAPPA_RETURN_IF_ERROR(append_phase({"append-always", storage::flush_policy::always, 1,
                                        &storage_bench_results::append_always}));
    if (o.always_threads > 1) {
      KAPPA_RETURN_IF_ERROR(append_phase({"append-always-threads", storage::flush_policy::always,
                                          o.always_threads,
                                          &storage_bench_results::append_always_threads}));
    }
  }
  if (o.read && !r.read) return invalid("--read needs an append phase (--flush)");

  if (o.reopen_bytes > 0) {
    KAPPA_ASSIGN_OR_RETURN(r.reopen, run_reopen(scratch.path() + "/reopen", o.reopen_bytes, pool, human));
    scratch.discard("reopen");
  }
  return r;
}

}  // namespace kappa::bench
