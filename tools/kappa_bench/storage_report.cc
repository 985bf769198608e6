// The summary of `kappa-bench storage`, as a table for people and as one JSON
// object for scripts and BENCHMARKS.md. Targets are those of the Foundation
// issue, printed beside each figure so a run says whether it meets them.
#include <string>

#include "tools/common/output.h"
#include "tools/kappa_bench/storage_bench.h"

namespace kappa::bench {
namespace {

using tools::fixed;

double ratio(const throughput& a, const std::optional<throughput>& b) {
  return b && b->mb_per_s() > 0 ? a.mb_per_s() / b->mb_per_s() : 0;
}

const char* met(bool ok) { return ok ? "met" : "NOT met"; }

std::string throughput_json(const throughput& t) {
  return "\"bytes\":" + std::to_string(t.bytes) + ",\"seconds\":" + fixed(t.seconds, 6) +
         ",\"mb_per_s\":" + fixed(t.mb_per_s(), 1);
}

std::string append_json(const append_figures& a, const storage_bench_results& r) {
  return "{" + throughput_json(a.t) + ",\"threads\":" + std::to_string(a.threads) +
         ",\"ratio_to_raw_buffered\":" + fixed(ratio(a.t, r.raw_buffered), 3) +
         ",\"ratio_to_raw_synced\":" + fixed(ratio(a.t, r.raw_synced), 3) + "}";
}

}  // namespace

void print_summary(const storage_bench_options& o, const storage_bench_results& r, std::FILE* out) {
  std::fprintf(out, "\nsummary (MB = 10^6 bytes, GB = 10^9 bytes; %llu-byte records, %llu-byte batches)\n",
               static_cast<unsigned long long>(o.record_bytes),
               static_cast<unsigned long long>(r.batch_size_bytes));
  if (r.raw_buffered) std::fprintf(out, "  raw buffered write          %9.1f MB/s\n", r.raw_buffered->mb_per_s());
  if (r.raw_synced) std::fprintf(out, "  raw synced write            %9.1f MB/s\n", r.raw_synced->mb_per_s());
  if (r.append_interval) {
    double x = ratio(r.append_interval->t, r.raw_buffered);
    std::fprintf(out, "  append flush=interval       %9.1f MB/s  %.2fx raw buffered (target >= 0.8x: %s)\n",
                 r.append_interval->t.mb_per_s(), x, met(x >= 0.8));
  }
  if (r.append_always) {
    double x = ratio(r.append_always->t, r.raw_synced);
    std::fprintf(out, "  append flush=always         %9.1f MB/s  %.2fx raw synced (target >= 0.5x: %s)\n",
                 r.append_always->t.mb_per_s(), x, met(x >= 0.5));
  }
  if (r.append_always_threads) {
    std::fprintf(out, "  append flush=always x%-2d     %9.1f MB/s  %.2fx raw synced (threads, group commit)\n",
                 r.append_always_threads->threads, r.append_always_threads->t.mb_per_s(),
                 ratio(r.append_always_threads->t, r.raw_synced));
  }
  if (r.read) {
    double best = std::max(r.read->first_pass.gb_per_s(), r.read->second_pass.gb_per_s());
    std::fprintf(out, "  read mmap, header+CRC32C    %9.2f GB/s pass 1, %.2f GB/s pass 2 (target >= 2 GB/s: %s)\n",
                 r.read->first_pass.gb_per_s(), r.read->second_pass.gb_per_s(), met(best >= 2.0));
  }
  if (r.reopen) {
    double worst = std::max(r.reopen->cold_open_s, r.reopen->warm_open_s);
    std::fprintf(out, "  reopen %.2f GiB, %d segments  %.3f s cold, %.3f s warm (target < 2 s: %s)\n",
                 r.reopen->bytes / 1073741824.0, r.reopen->segments, r.reopen->cold_open_s,
                 r.reopen->warm_open_s, met(worst < 2.0));
  }
  std::fflush(out);
}

std::string results_json(const storage_bench_options& o, const storage_bench_results& r) {
  std::string j = "{\"config\":{\"total_bytes\":" + std::to_string(o.total_bytes) +
                  ",\"record_bytes\":" + std::to_string(o.record_bytes) +
                  ",\"batch_bytes\":" + std::to_string(o.batch_bytes) +
                  ",\"batch_size_bytes\":" + std::to_string(r.batch_size_bytes) +
                  ",\"records_per_batch\":" + std::to_string(r.records_per_batch) + "}";
  if (r.raw_buffered) j += ",\"raw_buffered\":{" + throughput_json(*r.raw_buffered) + "}";
  if (r.raw_synced) j += ",\"raw_synced\":{" + throughput_json(*r.raw_synced) + "}";
  if (r.append_interval) j += ",\"append_interval\":" + append_json(*r.append_interval, r);
  if (r.append_always) j += ",\"append_always\":" + append_json(*r.append_always, r);
  if (r.append_always_threads) j += ",\"append_always_threads\":" + append_json(*r.append_always_threads, r);
  if (r.read) {
    j += ",\"read\":{\"check\":\"header+crc32c\",\"bytes\":" + std::to_string(r.read->first_pass.bytes) +
         ",\"batches\":" + std::to_string(r.read->batches) +
         ",\"first_pass_seconds\":" + fixed(r.read->first_pass.seconds, 6) +
         ",\"first_pass_gb_per_s\":" + fixed(r.read->first_pass.gb_per_s(), 3) +
         ",\"second_pass_seconds\":" + fixed(r.read->second_pass.seconds, 6) +
         ",\"second_pass_gb_per_s\":" + fixed(r.read->second_pass.gb_per_s(), 3) + "}";
  }
  if (r.reopen) {
    j += ",\"reopen\":{\"bytes\":" + std::to_string(r.reopen->bytes) +
         ",\"partitions\":" + std::to_string(r.reopen->partitions) +
         ",\"segments\":" + std::to_string(r.reopen->segments) +
         ",\"close_seconds\":" + fixed(r.reopen->close_s, 6) +
         ",\"cold_open_seconds\":" + fixed(r.reopen->cold_open_s, 6) +
         ",\"warm_open_seconds\":" + fixed(r.reopen->warm_open_s, 6) + "}";
  }
  return j + "}";
}

}  // namespace kappa::bench
