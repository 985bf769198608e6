// `kappactl log dump`: prints the batches (and optionally the records) of a
// segment file or of every segment of a partition directory, reading the
// segments through storage::posix_env() mappings. Never modifies anything.
#pragma once

#include <cstdio>
#include <string>

namespace kappa::kappactl {

struct dump_options {
  std::string path;      // a segment file (*.log) or a partition directory
  bool records = false;  // also print every record of every batch
  bool json = false;     // one JSON object per batch per line
};

// Dumps to `out`; damage and errors go to `err`, one line each. Returns
// kExitOk when every batch was whole with a good CRC, kExitTornTail when
// damage was found (a bad CRC does not stop the dump; a truncated or garbled
// tail stops that segment), kExitError when the path cannot be read.
int run_log_dump(const dump_options& options, std::FILE* out, std::FILE* err);

}  // namespace kappa::kappactl
