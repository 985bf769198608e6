// Reopen phase: how long a broker restart after a clean shutdown spends
// opening its logs. With clean-shutdown checkpoints nothing should be
// scanned, so the time must not grow with the bytes on disk.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "storage/log_manager.h"
#include "tools/kappa_bench/phases.h"

namespace kappa::bench {
namespace {

constexpr int kPartitions = 4;
constexpr const char* kTopic = "bench";

storage::log_config bench_config(const batch_pool& pool) {
  storage::log_config c;
  c.flush = storage::flush_policy::interval;
  c.max_batch_bytes = std::max(c.max_batch_bytes, pool.batch_size_bytes());
  return c;
}

storage::log_manager_options manager_options(const batch_pool& pool) {
  storage::log_manager_options o;
  o.default_config = bench_config(pool);
  return o;
}

// Drops the data dir's pages from the page cache so the open reads from the
// disk, as after a reboot. Only these files are affected (not the whole
// machine's cache, which drop_caches would wipe), and their pages are clean
// after the close, so DONTNEED really drops them.
void evict_from_page_cache(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Opens the data dir, checks that every partition came back with the log
// end it had, closes it again. Returns the seconds log_manager::open took.
Result<double> timed_open(const std::string& data_dir, const batch_pool& pool,
                          const std::map<int, int64_t>& ends) {
  stopwatch clock;
  KAPPA_ASSIGN_OR_RETURN(auto manager,
                         storage::log_manager::open(storage::posix_env(), data_dir, manager_options(pool)));
  double seconds = clock.seconds();
  for (const auto& [p, end] : ends) {
    storage::log* l = manager->get(storage::partition_id{kTopic, p});
    if (l == nullptr || l->log_end_offset() != end) {
      return Status(std::make_error_code(std::errc::io_error),
                    "reopen: partition " + std::to_string(p) + " came back " +
                        (l ? "with log end " + std::to_string(l->log_end_offset()) : "missing") +
                        ", expected " + std::to_string(end));
    }
  }
  KAPPA_RETURN_IF_ERROR(manager->close());
  return seconds;
}

}  // namespace

Result<reopen_figures> run_reopen(const std::string& data_dir, uint64_t reopen_bytes,
                                  const batch_pool& pool, std::FILE* human) {
  reopen_figures f;
  f.partitions = kPartitions;
  std::map<int, int64_t> ends;
  {
    KAPPA_ASSIGN_OR_RETURN(auto manager,
                           storage::log_manager::open(storage::posix_env(), data_dir, manager_options(pool)));
    storage::log_config config = bench_config(pool);
    std::vector<storage::log*> logs;
    for (int p = 0; p < kPartitions; ++p) {
      KAPPA_ASSIGN_OR_RETURN(storage::log * l,
                             manager->get_or_create(storage::partition_id{kTopic, p}, config));
      logs.push_back(l);
    }
    progress prog(human, "reopen: filling the data dir", reopen_bytes);
    byte_buffer buffer(pool.batch_size_bytes());
    for (uint64_t i = 0; f.bytes < reopen_bytes; ++i) {
      const byte_buffer& src = pool.batches[i % pool.batches.size()];
      std::memcpy(buffer.data(), src.data(), src.size());
      KAPPA_ASSIGN_OR_RETURN(auto appended, logs[i % logs.size()]->append(buffer, 0));
      (void)appended;
      f.bytes += buffer.size();
      prog.add(buffer.size());
    }
    for (int p = 0; p < kPartitions; ++p) {
      ends[p] = logs[p]->log_end_offset();
      f.segments += logs[p]->segment_count();
    }
    stopwatch clock;
    KAPPA_RETURN_IF_ERROR(manager->close());
    f.close_s = clock.seconds();
  }
  evict_from_page_cache(data_dir);
  std::fprintf(human, "  reopen: %d partitions, %d segments closed in %.3f s; opening cold\n",
               f.partitions, f.segments, f.close_s);
  KAPPA_ASSIGN_OR_RETURN(f.cold_open_s, timed_open(data_dir, pool, ends));
  std::fprintf(human, "  reopen: cold open %.3f s; opening warm\n", f.cold_open_s);
  KAPPA_ASSIGN_OR_RETURN(f.warm_open_s, timed_open(data_dir, pool, ends));
  return f;
}

}  // namespace kappa::bench
