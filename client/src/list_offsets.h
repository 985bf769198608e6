// ListOffsets routed to each partition's leader, retried (with backoff, up
// to request_timeout_ms) while leaders move or brokers are unreachable.
// Shared by the consumer's seeks and admin::list_offsets.
#pragma once

#include <utility>
#include <vector>

#include "client/src/metadata_cache.h"
#include "kappa/admin.h"

namespace kappa::client {

// One entry per spec, in order; each carries its own status.
Result<std::vector<listed_offset>> list_offsets(connection_pool& pool, metadata_cache& metadata,
                                                const std::vector<std::pair<topic_partition, int64_t>>& specs);

}  // namespace kappa::client
