#include "broker/producer_ids.h"

#include <algorithm>

namespace kappa::broker {

std::optional<int64_t> producer_ids::take() {
  std::lock_guard lk(mu_);
  if (next_ >= end_) return std::nullopt;
  return next_++ * kProducerIdTags + tag_;
}

void producer_ids::add_block(int64_t end, int64_t count) {
  std::lock_guard lk(mu_);
  // A block that ends where an earlier one did is the same block.
  if (end <= end_) return;
  next_ = std::max(end - count, end_);
  end_ = end;
}

}  // namespace kappa::broker
