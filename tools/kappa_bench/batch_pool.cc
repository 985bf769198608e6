#include "tools/kappa_bench/batch_pool.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "proto/format/records.h"

namespace kappa::bench {

Result<batch_pool> build_batch_pool(uint64_t record_bytes, uint64_t batch_bytes, int count) {
  batch_pool pool;
  pool.records_per_batch = static_cast<int>(std::max<uint64_t>(1, batch_bytes / record_bytes));
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64 state: fixed seed, same data every run
  for (int b = 0; b < count; ++b) {
    std::vector<format::record> records(pool.records_per_batch);
    for (format::record& r : records) {
      std::string value(record_bytes, '\0');
      for (size_t i = 0; i < value.size(); i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (size_t j = 0; j < 8 && i + j < value.size(); ++j) value[i + j] = static_cast<char>(x >> (8 * j));
      }
      r.value = std::move(value);
      r.timestamp = now_ms;
    }
    KAPPA_ASSIGN_OR_RETURN(byte_buffer batch, format::build_batch(format::batch_options{}, records));
    pool.batches.push_back(std::move(batch));
  }
  return pool;
}

}  // namespace kappa::bench
