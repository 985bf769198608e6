#include "client/src/produce_plan.h"

#include <map>

namespace kappa::client {

std::vector<planned_request> plan_requests(const std::vector<planned_batch>& batches,
                                           size_t max_request_bytes) {
  std::vector<planned_request> requests;
  // Per partition: one past the request holding its latest batch; the next
  // batch may only go there or later.
  std::map<topic_partition, size_t> first_allowed;
  for (size_t i = 0; i < batches.size(); ++i) {
    const planned_batch& b = batches[i];
    size_t& from = first_allowed[b.tp];
    size_t target = requests.size();
    for (size_t r = from; r < requests.size(); ++r) {
      if (requests[r].address == b.address && requests[r].bytes + b.bytes <= max_request_bytes) {
        target = r;
        break;
      }
    }
    if (target == requests.size()) requests.push_back({b.address, {}, 0});
    requests[target].batches.push_back(i);
    requests[target].bytes += b.bytes;
    from = target + 1;
  }
  return requests;
}

}  // namespace kappa::client
