// `kappactl log verify`: judges a partition directory (or one segment file)
// the way recovery would, using storage::scan_partition_dir /
// scan_segment_file. Never modifies anything.
#pragma once

#include <cstdio>
#include <string>

namespace kappa::kappactl {

struct verify_options {
  std::string path;   // a partition directory, or one segment file
  bool json = false;  // print the scan report as one JSON object on `out`
};

// Returns kExitOk (clean), kExitTornTail, kExitCorruption, or kExitError
// (missing path, unreadable files). Damage and errors are one line on `err`
// saying which segment file, which byte position and what.
int run_log_verify(const verify_options& options, std::FILE* out, std::FILE* err);

}  // namespace kappa::kappactl
