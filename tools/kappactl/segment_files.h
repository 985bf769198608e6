// Finding and mapping segment files for the offline log commands. All file
// access goes through storage::posix_env(), as the broker's does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::kappactl {

// `path` itself when it is a file; for a directory, its segment files
// (`<20 digits>.log`) in offset order. Fails when `path` does not exist.
Result<std::vector<std::string>> list_segments(const std::string& path);

struct mapped_segment {
  // The whole file as it was when mapped. Valid while `region` is held.
  std::shared_ptr<const storage::mapped_region> region;
};

// Maps a whole segment file read-only.
Result<mapped_segment> map_segment(const std::string& path);

}  // namespace kappa::kappactl
