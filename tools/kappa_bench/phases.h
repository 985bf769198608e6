// The phases of `kappa-bench storage` (see storage_bench.h for what each
// measures). Each returns its figures or the Status that stopped it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "proto/format/result.h"
#include "storage/log.h"
#include "storage/log_config.h"
#include "tools/kappa_bench/batch_pool.h"
#include "tools/kappa_bench/storage_bench.h"

namespace kappa::bench {

// Writes total_bytes to a new file at `path` in chunk_bytes write() calls,
// with an fdatasync after every chunk (sync_each_chunk) or once at the end;
// the time covers the writes and the syncs. Removes the file afterwards.
Result<throughput> run_raw_write(const std::string& path, uint64_t total_bytes,
                                 uint64_t chunk_bytes, bool sync_each_chunk, std::FILE* human);

// Appends batches from `pool` to `log` until at least total_bytes are written,
// from `threads` threads (each with its own reused buffer). Under
// flush_policy::interval the final flush() is part of the time.
Result<append_figures> run_append(storage::log& log, const batch_pool& pool, uint64_t total_bytes,
                                  int threads, const std::string& phase, std::FILE* human);

// Reads `log` from start to end through log::read, validating every batch's
// header and CRC32C; twice.
Result<read_figures> run_read(const storage::log& log, std::FILE* human);

// Fills a data dir with reopen_bytes across partitions, closes it cleanly and
// times log_manager::open on it, cold and warm.
Result<reopen_figures> run_reopen(const std::string& data_dir, uint64_t reopen_bytes,
                                  const batch_pool& pool, std::FILE* human);

}  // namespace kappa::bench
