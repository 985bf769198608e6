// high_watermarks: the high watermark (and log start) of any partition, for
// consumer lag (DescribeGroup, metrics). A partition this broker leads
// answers from its replica; any other is asked of its leader (ListOffsets
// latest and earliest, deadline
// kAskTimeoutMs, one call per leader per lookup) and the answer is cached
// for kCacheMs, so a burst of describes and scrapes asks each leader at most
// about once a second.
//
// Thread safety: every method may be called from any thread. lookup()
// blocks (network): call it off the gRPC threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kappa::broker {
class partition_manager;
}

namespace kappa::broker::group {

inline constexpr int64_t kCacheMs = 1000;
inline constexpr int64_t kAskTimeoutMs = 1000;

using topic_partition = std::pair<std::string, int32_t>;

// -1 where unknown.
struct log_range {
  int64_t log_start = -1;
  int64_t high_watermark = -1;
};

class high_watermarks {
 public:
  explicit high_watermarks(partition_manager& pm);
  ~high_watermarks();

  // Each partition's figures, -1 when neither this broker nor its leader
  // could tell.
  std::map<topic_partition, log_range> lookup(const std::vector<topic_partition>& partitions);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::broker::group
