// Idempotent producer ids in a cluster. The controller hands out blocks of
// untagged ids (allocate_producer_ids_command; the image's next_producer_id
// is the end of the newest block and only grows, across restarts too). A
// broker learns only that end after its own block committed, not which block
// was its own when several brokers allocate at once, so it tags every id with
// its node id: id = untagged * kProducerIdTags + (node_id % kProducerIdTags).
// Two brokers that both take [end - count, end) still hand out different ids,
// and one broker's successive blocks never overlap (each ends at least
// `count` past the previous one, since its own block committed in between).
// Node ids must therefore differ modulo kProducerIdTags.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

namespace kappa::broker {

inline constexpr int64_t kProducerIdBlock = 1000;
inline constexpr int64_t kProducerIdTags = 1024;

class producer_ids {
 public:
  explicit producer_ids(int32_t node_id) : tag_(int64_t(node_id) % kProducerIdTags) {}

  // The next id of the current block; nullopt when it is used up (then get a
  // block from the controller and add_block()).
  std::optional<int64_t> take();
  // `end` = the image's next_producer_id once this broker's block of `count`
  // ids committed.
  void add_block(int64_t end, int64_t count);

 private:
  const int64_t tag_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t end_ = 0;
};

}  // namespace kappa::broker
