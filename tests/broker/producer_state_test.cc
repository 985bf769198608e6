#include <catch2/catch.hpp>

#include "broker/errc.h"
#include "broker/producer_state.h"

using namespace kappa::broker;
using kappa::format::batch_header;

namespace {
batch_header batch(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t offset = 0) {
  batch_header h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.record_count = count;
  h.last_offset_delta = count - 1;
  h.base_offset = offset;
  return h;
}
using kind = sequence_check::kind;
}  // namespace

TEST_CASE("a retried batch is a duplicate with its original offsets", "[broker][producer_state]") {
  producer_state s;
  CHECK(s.check(batch(7, 0, 0, 3)).what == kind::append);
  s.observe(batch(7, 0, 0, 3, 100));
  s.observe(batch(7, 0, 3, 2, 103));
  auto c = s.check(batch(7, 0, 0, 3));
  REQUIRE(c.what == kind::duplicate);
  CHECK(c.original.base_offset == 100);
  CHECK(c.original.last_offset == 102);
  CHECK(s.check(batch(7, 0, 3, 2)).what == kind::duplicate);
  CHECK(s.check(batch(7, 0, 5, 1)).what == kind::append);
}

TEST_CASE("a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(7, 0, 0, 3, 0));
  auto c = s.check(batch(7, 0, 4, 1));
  REQUIRE(c.what == kind::reject);
  CHECK(api_error_code(c.error) == 45);
  CHECK(c.error.message().find("expected sequence 3") != std::string::npos);
}

TEST_CASE("an older epoch is fenced; a newer one restarts at 0", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(7, 2, 0, 1, 0));
  auto c = s.check(batch(7, 1, 1, 1));
  REQUIRE(c.what == kind::reject);
  CHECK(api_error_code(c.error) == 47);  // INVALID_PRODUCER_EPOCH
  CHECK(s.check(batch(7, 3, 5, 1)).what == kind::reject);
  CHECK(s.check(batch(7, 3, 0, 1)).what == kind::append);
  s.observe(batch(7, 3, 0, 1, 1));
  CHECK(s.check(batch(7, 2, 1, 1)).what == kind::reject);
}

TEST_CASE("only the last five batches are remembered", "[broker][producer_state]") {
  producer_state s;
  for (int i = 0; i < 8; ++i) s.observe(batch(1, 0, i, 1, i));
  CHECK(s.producers().at(1).batches.size() == kBatchesPerProducer);
  CHECK(s.check(batch(1, 0, 7, 1)).what == kind::duplicate);
  CHECK(s.check(batch(1, 0, 3, 1)).what == kind::duplicate);
  CHECK(s.check(batch(1, 0, 2, 1)).what == kind::reject);  // too old to tell: not stored twice
}

TEST_CASE("sequences wrap past INT32_MAX", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(1, 0, INT32_MAX - 1, 2, 0));
  CHECK(s.check(batch(1, 0, 0, 1)).what == kind::append);
  CHECK(last_sequence(INT32_MAX, 1) == 0);
}

TEST_CASE("non-idempotent batches are never checked", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(-1, -1, -1, 1));
  CHECK(s.size() == 0);
  CHECK(s.check(batch(-1, -1, -1, 1)).what == kind::append);
}

TEST_CASE("snapshot round trip, then rebuild past it", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(1, 0, 0, 2, 0));
  s.observe(batch(2, 4, 10, 1, 2));
  auto bytes = s.encode(3);
  producer_state r;
  auto off = r.decode(bytes);
  REQUIRE(off.ok());
  CHECK(*off == 3);
  CHECK(r.producers().at(1).batches == s.producers().at(1).batches);
  CHECK(r.producers().at(2).epoch == 4);
  // Replaying batches after the snapshot continues the sequences.
  r.observe(batch(1, 0, 2, 1, 3));
  CHECK(r.check(batch(1, 0, 2, 1)).what == kind::duplicate);
  CHECK(r.check(batch(1, 0, 3, 1)).what == kind::append);
}

TEST_CASE("a damaged snapshot is rejected, not half-loaded", "[broker][producer_state]") {
  producer_state s;
  s.observe(batch(1, 0, 0, 2, 0));
  auto bytes = s.encode(2);
  producer_state r;
  r.observe(batch(9, 0, 0, 1, 0));
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() - 1}) {
    auto part = kappa::byte_view(bytes).first(cut);
    CHECK_FALSE(r.decode(part).ok());
    CHECK(r.producers().count(9) == 1);
  }
}

TEST_CASE("the producer table is capped", "[broker][producer_state]") {
  producer_state s;
  for (int64_t pid = 0; pid < int64_t(kProducersMax) + 10; ++pid) s.observe(batch(pid, 0, 0, 1, pid));
  CHECK(s.size() == kProducersMax);
  CHECK(s.producers().count(0) == 0);  // least recently written went first
  CHECK(s.producers().count(int64_t(kProducersMax) + 9) == 1);
}
