// Reading for Fetch and FetchStream: one partition's batches into a
// response, with the error codes the API promises.
#pragma once

#include <cstdint>

#include "broker/api/services.h"

namespace kappa::broker {

struct fetch_totals {
  uint64_t bytes = 0;   // record bytes placed in the response
  int partitions = 0;   // partitions that exist and were read
  int errors = 0;       // partitions answered with an error
};

// Fills `resp` for every partition of `req` (in request order), within the
// request's and each partition's byte limits (one whole batch at least for
// the first partition that has data, as Kafka does).
fetch_totals fill_fetch_response(partition_manager& pm, const v1::FetchRequest& req,
                                 v1::FetchResponse& resp);

// The check of a fetcher's current_leader_epoch (<= 0: none) against the
// partition's: UNKNOWN_LEADER_EPOCH when the client's is newer,
// FENCED_LEADER_EPOCH when older (as Kafka).
Status check_leader_epoch(const partition& p, int32_t client_epoch);

// Reads one partition at `offset` into the out-parameters. Returns the
// error (OFFSET_OUT_OF_RANGE with `range` filled, UNKNOWN_TOPIC...).
Status read_partition(partition& p, int64_t offset, size_t max_bytes, std::string* records,
                      int64_t* next_offset, v1::OffsetRange* range);

}  // namespace kappa::broker
