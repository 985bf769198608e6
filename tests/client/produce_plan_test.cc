// Grouping a sender round's batches into ProduceRequests: each partition's
// batches must reach the broker in sequence order, whatever else shares the
// requests.
#include <catch2/catch.hpp>

#include <map>

#include "client/src/accumulator.h"
#include "client/src/produce_plan.h"

using kappa::topic_partition;
using kappa::client::plan_requests;
using kappa::client::planned_batch;

namespace {

// Request index of each batch; checks the per-request ENSURES on the way.
std::vector<size_t> placement(const std::vector<planned_batch>& batches, size_t max_request_bytes) {
  auto requests = plan_requests(batches, max_request_bytes);
  std::vector<size_t> where(batches.size(), SIZE_MAX);
  for (size_t r = 0; r < requests.size(); ++r) {
    REQUIRE_FALSE(requests[r].batches.empty());
    std::map<topic_partition, int> seen;
    size_t bytes = 0;
    for (size_t i : requests[r].batches) {
      REQUIRE(where[i] == SIZE_MAX);
      where[i] = r;
      CHECK(batches[i].address == requests[r].address);
      CHECK(++seen[batches[i].tp] == 1);
      bytes += batches[i].bytes;
    }
    CHECK(bytes == requests[r].bytes);
    if (requests[r].batches.size() > 1) CHECK(bytes <= max_request_bytes);
  }
  for (size_t w : where) REQUIRE(w != SIZE_MAX);
  return where;
}

// Per address, plan order must be each partition's batch order.
void check_partition_order(const std::vector<planned_batch>& batches,
                           const std::vector<size_t>& where) {
  std::map<topic_partition, size_t> last;
  for (size_t i = 0; i < batches.size(); ++i) {
    auto it = last.find(batches[i].tp);
    if (it != last.end()) {
      INFO("batch " << i << " of " << batches[i].tp.topic << "-" << batches[i].tp.partition);
      CHECK(where[i] > it->second);
    }
    last[batches[i].tp] = where[i];
  }
}

}  // namespace

TEST_CASE("a partition's later batch never goes in an earlier request than its predecessor",
          "[client][produce_plan]") {
  // Drain order: partition by partition, several in flight each. The old
  // grouping put p1's second batch into request 1, ahead of request 2 that
  // held p1's first: OUT_OF_ORDER_SEQUENCE_NUMBER with 4 partitions.
  std::vector<planned_batch> batches;
  for (int32_t p = 0; p < 4; ++p) {
    for (int k = 0; k < 5; ++k) batches.push_back({"b:1", {"t", p}, 1000});
  }
  auto where = placement(batches, size_t{4} << 20);
  check_partition_order(batches, where);
  // Still packed: 5 requests of one batch of each of the 4 partitions.
  CHECK(plan_requests(batches, size_t{4} << 20).size() == 5);
}

TEST_CASE("the request size cap does not let a batch overtake its partition",
          "[client][produce_plan]") {
  // p0's first batch fills request 0 alone; p1's batches must still follow
  // one another even though request 0 has no room and request 1 has.
  std::vector<planned_batch> batches{{"b:1", {"t", 0}, 900}, {"b:1", {"t", 0}, 100},
                                     {"b:1", {"t", 1}, 100}, {"b:1", {"t", 1}, 100},
                                     {"b:1", {"t", 1}, 950}, {"b:1", {"t", 2}, 2000}};
  auto where = placement(batches, 1000);
  check_partition_order(batches, where);
  CHECK(where[5] != where[0]);  // an oversized batch travels alone
}

TEST_CASE("brokers get separate requests, each in partition order", "[client][produce_plan]") {
  std::vector<planned_batch> batches;
  for (int k = 0; k < 3; ++k) {
    for (int32_t p = 0; p < 6; ++p) batches.push_back({p % 2 ? "b:2" : "b:1", {"t", p}, 10});
  }
  auto where = placement(batches, 1 << 20);
  check_partition_order(batches, where);
  CHECK(plan_requests(batches, 1 << 20).size() == 6);  // 3 rounds x 2 brokers
}

TEST_CASE("what the accumulator drains plans into in-order requests", "[client][produce_plan]") {
  // The accumulator drains partition by partition, up to 5 batches each: the
  // shape that broke. Batches of 1 record, 4 partitions, one broker.
  kappa::client::accumulator acc(
      {.batch_bytes = 64, .linger_ms = 0, .max_in_flight_per_partition = 5, .seed = 7});
  for (int i = 0; i < 40; ++i) {
    kappa::format::record r;
    r.value = std::string(50, 'v');
    const size_t bytes = kappa::client::estimate_record_bytes(r);
    acc.append("t", i % 4, 4, std::move(r), bytes, nullptr, 0, 60000);
  }
  auto drained = acc.drain(
      1, false, [](const topic_partition&) { return true; }, /*producer_id=*/0);
  REQUIRE(drained.size() == 20);
  std::vector<planned_batch> batches;
  for (auto& b : drained) batches.push_back({"b:1", b->tp, b->size_bytes});
  auto where = placement(batches, size_t{4} << 20);
  // Sequence order within a partition is request order.
  std::map<topic_partition, std::pair<int32_t, size_t>> last;
  for (size_t i = 0; i < drained.size(); ++i) {
    auto it = last.find(drained[i]->tp);
    if (it != last.end()) {
      CHECK(drained[i]->base_sequence > it->second.first);
      CHECK(where[i] > it->second.second);
    }
    last[drained[i]->tp] = {drained[i]->base_sequence, where[i]};
  }
}
