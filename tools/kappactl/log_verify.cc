#include "tools/kappactl/log_verify.h"

#include <cerrno>
#include <cinttypes>
#include <string>

#include "storage/env.h"
#include "storage/log_scan.h"
#include "tools/common/output.h"
#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

const char* verdict_name(storage::scan_verdict v) {
  switch (v) {
    case storage::scan_verdict::clean: return "clean";
    case storage::scan_verdict::torn_tail: return "torn_tail";
    case storage::scan_verdict::corruption: return "corruption";
  }
  return "unknown";
}

void print_json(const storage::scan_report& r, std::FILE* out) {
  std::string line = "{\"verdict\":\"" + std::string(verdict_name(r.verdict)) + "\"" +
                     ",\"segment\":" + tools::json_string(r.segment_path) +
                     ",\"position\":" + std::to_string(r.position) +
                     ",\"message\":" + tools::json_string(r.message) +
                     ",\"batches\":" + std::to_string(r.batches) +
                     ",\"next_offset\":" + std::to_string(r.next_offset) + "}\n";
  std::fputs(line.c_str(), out);
}

}  // namespace

int run_log_verify(const verify_options& options, std::FILE* out, std::FILE* err) {
  storage::env& e = storage::posix_env();
  if (!e.exists(options.path)) {
    std::fprintf(err, "kappactl log verify: %s\n",
                 Status::from_errno(ENOENT, options.path).message().c_str());
    return kExitError;
  }
  auto report = e.is_dir(options.path) ? storage::scan_partition_dir(e, options.path)
                                       : storage::scan_segment_file(e, options.path);
  if (!report.ok()) {
    std::fprintf(err, "kappactl log verify: %s\n", report.status().message().c_str());
    return kExitError;
  }
  const storage::scan_report& r = *report;
  if (options.json) print_json(r, out);
  if (r.verdict == storage::scan_verdict::clean) {
    if (!options.json) {
      std::fprintf(out, "clean: %s: %" PRId64 " batches, next offset %" PRId64 "\n",
                   options.path.c_str(), r.batches, r.next_offset);
    }
    return kExitOk;
  }
  bool torn = r.verdict == storage::scan_verdict::torn_tail;
  std::fflush(out);
  std::fprintf(err, "%s: %s: byte %" PRIu64 ": %s (%" PRId64 " valid batches before it%s)\n",
               torn ? "torn tail (recoverable: recovery truncates it)"
                    : "corruption (valid data follows the damage)",
               r.segment_path.c_str(), r.position, r.message.c_str(), r.batches,
               torn ? "" : "; recovery will not truncate it");
  return torn ? kExitTornTail : kExitCorruption;
}

}  // namespace kappa::kappactl
