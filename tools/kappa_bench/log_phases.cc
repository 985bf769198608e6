// Append and read phases against one storage::log.
#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "proto/format/batch_validator.h"
#include "proto/format/record_batch.h"
#include "tools/kappa_bench/phases.h"

namespace kappa::bench {
namespace {

// One appender: copies pool batches round-robin into its own buffer (append
// stamps offsets into the bytes it is given, so the pool must stay intact)
// and appends `count` of them.
Status append_batches(storage::log& log, const batch_pool& pool, uint64_t count, size_t first,
                      progress& prog) {
  byte_buffer buffer(pool.batch_size_bytes());
  for (uint64_t i = 0; i < count; ++i) {
    const byte_buffer& src = pool.batches[(first + i) % pool.batches.size()];
    std::memcpy(buffer.data(), src.data(), src.size());
    auto appended = log.append(buffer, /*leader_epoch=*/0);
    if (!appended.ok()) return appended.status();
    prog.add(buffer.size());
  }
  return Status();
}

}  // namespace

Result<append_figures> run_append(storage::log& log, const batch_pool& pool, uint64_t total_bytes,
                                  int threads, const std::string& phase, std::FILE* human) {
  threads = std::max(1, threads);
  uint64_t batch_bytes = pool.batch_size_bytes();
  uint64_t per_thread = std::max<uint64_t>(1, (total_bytes + batch_bytes * threads - 1) /
                                                  (batch_bytes * threads));
  progress prog(human, phase, per_thread * threads * batch_bytes);
  stopwatch clock;
  std::vector<Status> results(threads);
  if (threads == 1) {
    results[0] = append_batches(log, pool, per_thread, 0, prog);
  } else {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        results[t] = append_batches(log, pool, per_thread, static_cast<size_t>(t), prog);
      });
    }
    for (std::thread& w : workers) w.join();
  }
  for (const Status& s : results) KAPPA_RETURN_IF_ERROR(s);
  // Under flush=interval the data is durable only after this; a figure that
  // left it out would compare page-cache copies with disk writes.
  KAPPA_RETURN_IF_ERROR(log.flush());
  append_figures f;
  f.t = throughput{per_thread * threads * batch_bytes, clock.seconds()};
  f.threads = threads;
  return f;
}

namespace {

// One pass over the whole log. Returns the bytes validated.
Result<throughput> read_pass(const storage::log& log, int64_t& batches) {
  // Large reads: one log::read call per 64 MiB keeps per-call overhead out of
  // the figure; the view is a window onto the mapping, nothing is copied.
  constexpr size_t kMaxReadBytes = size_t{64} << 20;
  format::validation_limits limits{.max_batch_bytes = log.config().max_batch_bytes};
  batches = 0;
  uint64_t bytes = 0;
  stopwatch clock;
  int64_t offset = log.log_start_offset();
  int64_t end = log.log_end_offset();
  while (offset < end) {
    KAPPA_ASSIGN_OR_RETURN(storage::read_view view, log.read(offset, kMaxReadBytes));
    if (view.batches.empty() || view.next_offset <= offset) {
      return Status(std::make_error_code(std::errc::io_error),
                    "log::read at offset " + std::to_string(offset) + " returned no progress");
    }
    byte_view rest = view.batches;
    while (!rest.empty()) {
      KAPPA_ASSIGN_OR_RETURN(format::batch_header h,
                             format::validate_batch(rest, limits,
                                                    format::validation_depth::header_and_crc));
      rest = rest.subspan(h.size_bytes());
      ++batches;
    }
    bytes += view.batches.size();
    offset = view.next_offset;
  }
  return throughput{bytes, clock.seconds()};
}

}  // namespace

Result<read_figures> run_read(const storage::log& log, std::FILE* human) {
  read_figures f;
  std::fprintf(human, "  read: pass 1 of 2\n");
  KAPPA_ASSIGN_OR_RETURN(f.first_pass, read_pass(log, f.batches));
  std::fprintf(human, "  read: pass 1: %.2f GB/s; pass 2 of 2\n", f.first_pass.gb_per_s());
  KAPPA_ASSIGN_OR_RETURN(f.second_pass, read_pass(log, f.batches));
  return f;
}

}  // namespace kappa::bench
