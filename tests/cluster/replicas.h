// replicas: after the cluster stopped, reads every broker's copy of each
// partition straight from its data directory (the storage library, as
// `kappactl log dump` does) and checks
// - every replica holds every batch below the high watermark, byte for byte
//   the same as the others (Raft's log matching, on disk);
// - along each replica's log, partitionLeaderEpoch never decreases
//   (leadership epochs monotonic);
// - no replica's log is left in a failed (corrupt) state.
// Thread safety: a plain function; the brokers must not run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kappa_cluster {

class cluster;

// Returns one line per violation (empty = pass). `hw`: partition -> high
// watermark found by the final drain.
std::vector<std::string> compare_replicas(const cluster& c, const std::string& topic,
                                          const std::map<int32_t, int64_t>& hw);

}  // namespace kappa_cluster
