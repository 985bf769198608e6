// How one sender round's batches are grouped into ProduceRequests. Pure: no
// I/O, no protobuf, no lock; the sender calls it and tests drive it.
//
// Why the grouping has an order rule: the requests of one broker go out on
// one ProduceStream, in plan order, and the broker appends each partition's
// batches in the order the requests arrive. With up to 5 batches of a
// partition drained in one round, a later batch placed in an earlier request
// than its predecessor reaches the broker first: an idempotent producer then
// gets OUT_OF_ORDER_SEQUENCE_NUMBER (and a non-idempotent one reorders).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kappa/types.h"

namespace kappa::client {

struct planned_batch {
  std::string address;  // the partition leader's
  topic_partition tp;
  size_t bytes = 0;
};

struct planned_request {
  std::string address;
  std::vector<size_t> batches;  // indexes into the planned_batch list
  size_t bytes = 0;
};

// Groups `batches` into requests. REQUIRES: within one partition, `batches`
// is in sequence (send) order. ENSURES, per request: one address, at most one
// batch per partition, bytes <= max_request_bytes unless it holds a single
// batch; and each batch sits in a later request than every earlier batch of
// its partition (so per address, plan order is each partition's send order).
std::vector<planned_request> plan_requests(const std::vector<planned_batch>& batches,
                                           size_t max_request_bytes);

}  // namespace kappa::client
