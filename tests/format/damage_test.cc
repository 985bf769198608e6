// Random damage: whatever bytes arrive, validation and decoding return an
// error or a result, never crash or read out of bounds (run under ASan).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>

#include "format_test_util.h"

using namespace kappa;
using namespace kappa::format;
using namespace kappa::format::testing;

TEST_CASE("RandomlyDamagedBatchesFailCleanly") {
  const char* env_seed = std::getenv("KAPPA_TEST_SEED");  // replays a run
  const uint64_t seed =
      env_seed != nullptr ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  WARN("RandomlyDamagedBatchesFailCleanly seed " << seed);
  std::mt19937_64 rng(seed);
  validation_limits limits;
  limits.max_decompressed_bytes = 1 << 20;
  size_t accepted = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    batch_options o;
    o.codec = static_cast<compression>(iteration % 5);
    byte_buffer b = sample_batch(o);
    for (size_t flips = 1 + rng() % 4; flips > 0; --flips) {
      b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    // Mostly re-CRC, so the damage reaches the checks behind the CRC.
    if (b.size() >= kBatchHeaderBytes && rng() % 8 != 0) {
      batch_header h = read_header(b);
      h.batch_length = static_cast<int32_t>(b.size() - kBatchLogOverheadBytes);
      write_header(h, b);
      recrc(b);
    }
    auto h = validate_batch(b, limits, validation_depth::records);
    byte_buffer scratch;
    auto rs = decode_records(b, scratch, limits.max_decompressed_bytes);
    if (h.ok()) {
      ++accepted;
      INFO("seed " << seed << " iteration " << iteration);
      // Whatever validation passes, decoding must handle.
      REQUIRE(rs.ok());
      REQUIRE(rs->size() == static_cast<size_t>(h->record_count));
    }
  }
  WARN(accepted << " of 2000 damaged batches were still valid (flips in keys and values)");
}

TEST_CASE("ControlBatchOffsetsNeedOnlyAscend") {
  // Control batches (e.g. a Raft no-op, a transaction marker) are built by
  // the broker; their records need not be numbered 0..n-1.
  batch_options o;
  o.control = true;
  byte_buffer b = sample_batch(o);
  REQUIRE(validate_batch(b, {}, validation_depth::records).ok());
  // lastOffsetDelta beyond the records is allowed for control batches.
  mutate_header(b, [](batch_header& h) { h.last_offset_delta = 10; });
  CHECK(validate_batch(b, {}, validation_depth::records).ok());
}

TEST_CASE("DeleteHorizonBaseTimestampMayExceedMaxTimestamp") {
  byte_buffer b = sample_batch();
  mutate_header(b, [](batch_header& h) { h.attributes |= attr::delete_horizon; });
  // Records keep their timestamps (deltas from the old base), so only the
  // header-depth ordering rule is relaxed; check that rule alone.
  mutate_header(b, [](batch_header& h) { h.base_timestamp = h.max_timestamp + 1000; });
  CHECK(validate_batch(b, {}, validation_depth::header_and_crc).ok());
  mutate_header(b, [](batch_header& h) { h.attributes &= ~attr::delete_horizon; });
  CHECK(validate_batch(b, {}, validation_depth::header_and_crc).status().code() ==
        errc::bad_timestamp);
}
