// Offset retention of one group (internal to broker/group/group_*.cc).
#pragma once

#include <cstdint>

#include "broker/group/group_state.h"

namespace kappa::broker::group {

// Tombstones the offsets of topics (and partitions) no longer in `topics`
// (skipped while `topics` is empty: metadata not known yet) and, when the
// group has no members, those older than retention_ms counted from when the
// group became empty or from their commit, whichever is later.
void expire_offsets(group_state& g, const topics_view& topics, int64_t wall_ms,
                    int64_t retention_ms, records& out);

}  // namespace kappa::broker::group
