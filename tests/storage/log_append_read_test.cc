// Appends and reads: round trips across segment rolls, index-driven reads,
// the read contract (max_bytes, max_offset, range errors), views that
// outlive the segments they came from, and timestamp lookup.
#include <catch2/catch.hpp>

#include "log_test_util.h"

namespace kappa::storage::test {

TEST_CASE("append_then_read_round_trips_across_segment_rolls", "[log]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  std::vector<byte_buffer> written;
  int64_t next = 0;
  for (int i = 0; i < 60; ++i) {
    auto b = make_batch(1 + i % 4, 1000 + i * 10, 100, i);
    auto r = l->append(b, 7);
    REQUIRE(r.ok());
    CHECK(r->base_offset == next);
    CHECK(r->last_offset == next + (1 + i % 4) - 1);
    next = r->last_offset + 1;
    written.push_back(b);  // stamped in place by append
  }
  CHECK(l->log_end_offset() == next);
  CHECK(l->durable_end_offset() == next);
  CHECK(l->segment_count() > 3);
  auto all = read_all(*l, 700);
  REQUIRE(all.size() == written.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i] == written[i]);
    CHECK(format::read_header(all[i]).partition_leader_epoch == 7);
    CHECK(crc_ok(all[i]));
  }
}

TEST_CASE("read_from_the_middle_of_a_segment_uses_the_index_and_returns_the_containing_batch", "[log]") {
  fault_fixture f;
  auto c = small_config(1 << 20);
  c.index_interval_bytes = 256;
  auto l = open_log(f.fe, f.dir, c);
  for (int i = 0; i < 200; ++i) {
    auto b = make_batch(3, 1000 + i, 50, i);
    REQUIRE(l->append(b, 0).ok());
  }
  for (int64_t off : {0, 1, 2, 3, 299, 300, 301, 598, 599}) {
    auto v = l->read(off, 1);
    REQUIRE(v.ok());
    auto batches = split_batches(v->batches);
    REQUIRE(batches.size() == 1);  // at least one whole batch, even past max_bytes
    auto h = format::read_header(batches[0]);
    CHECK(h.base_offset <= off);
    CHECK(h.last_offset() >= off);
    CHECK(v->next_offset == h.last_offset() + 1);
  }
}

TEST_CASE("read_honours_max_bytes_max_offset_and_the_valid_range", "[log]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  std::vector<size_t> sizes;
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 5000 + i, 40, i);
    sizes.push_back(b.size());
    REQUIRE(l->append(b, 0).ok());
  }
  auto v = l->read(0, sizes[0] + sizes[1] + 1);
  REQUIRE(v.ok());
  CHECK(split_batches(v->batches).size() == 2);
  CHECK(v->next_offset == 4);

  v = l->read(0, 1 << 20, 4);  // base offsets 0 and 2 only
  REQUIRE(v.ok());
  CHECK(split_batches(v->batches).size() == 2);

  v = l->read(4, 1 << 20, 4);  // the first batch itself starts at max_offset
  REQUIRE(v.ok());
  CHECK(v->batches.empty());
  CHECK(v->next_offset == 4);

  v = l->read(20, 100);  // the log end: empty, not an error
  REQUIRE(v.ok());
  CHECK(v->batches.empty());
  CHECK(v->next_offset == 20);

  auto bad = l->read(21, 100);
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == errc::offset_out_of_range);
  CHECK_THAT(bad.status().message(), Catch::Contains("0 to 20"));
  CHECK(l->read(-1, 100).status().code() == errc::offset_out_of_range);
}

TEST_CASE("read_views_outlive_roll_truncation_and_segment_deletion", "[log]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  std::vector<byte_buffer> written;
  for (int i = 0; i < 40; ++i) {
    auto b = make_batch(2, 1000 + i, 100, i);
    REQUIRE(l->append(b, 0).ok());
    written.push_back(b);
  }
  auto first = l->read(0, 1 << 20);       // the first segment
  REQUIRE(first.ok());
  const int64_t mid_offset = 40;
  auto tail = l->read(mid_offset, 1 << 20);  // a later segment
  REQUIRE(tail.ok());
  auto copy_first = byte_buffer(first->batches.begin(), first->batches.end());
  auto copy_tail = byte_buffer(tail->batches.begin(), tail->batches.end());

  // Roll (more appends), truncate the suffix under the tail view, delete the
  // first segment under the first view.
  for (int i = 0; i < 20; ++i) {
    auto b = make_batch(2, 2000 + i, 100, i);
    REQUIRE(l->append(b, 0).ok());
  }
  REQUIRE(l->truncate_suffix(mid_offset).ok());
  REQUIRE(l->truncate_prefix(mid_offset).ok());
  CHECK(l->log_start_offset() == mid_offset);
  CHECK(l->log_end_offset() == mid_offset);

  REQUIRE(byte_buffer(first->batches.begin(), first->batches.end()) == copy_first);
  REQUIRE(byte_buffer(tail->batches.begin(), tail->batches.end()) == copy_tail);
  for (auto& b : split_batches(first->batches)) CHECK(crc_ok(b));
  for (auto& b : split_batches(tail->batches)) CHECK(crc_ok(b));

  // The log goes on from the cut.
  auto b = make_batch(1, 3000);
  auto r = l->append(b, 0);
  REQUIRE(r.ok());
  CHECK(r->base_offset == mid_offset);
}

TEST_CASE("offset_for_timestamp_finds_the_first_record_at_or_after_the_time", "[log]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  // Batch i holds 4 records with timestamps 10000 + 10*i + {0,1,2,3}.
  for (int i = 0; i < 50; ++i) {
    auto b = make_batch(4, 10000 + 10 * i, 60, i);
    REQUIRE(l->append(b, 0).ok());
  }
  REQUIRE(l->segment_count() > 2);
  auto at = [&](int64_t ts) {
    auto r = l->offset_for_timestamp(ts);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(at(0) == std::optional<int64_t>(0));
  CHECK(at(10000) == std::optional<int64_t>(0));
  CHECK(at(10002) == std::optional<int64_t>(2));
  CHECK(at(10004) == std::optional<int64_t>(4));  // between batches: the next batch's first record
  CHECK(at(10253) == std::optional<int64_t>(103));
  CHECK(at(10493) == std::optional<int64_t>(199));
  CHECK(at(10494) == std::nullopt);
  // Still right after a clean reopen (max timestamps from the time index).
  REQUIRE(l->close().ok());
  l = open_log(f.fe, f.dir, small_config());
  CHECK(at(10253) == std::optional<int64_t>(103));
  CHECK(at(10494) == std::nullopt);
}

TEST_CASE("append_rejects_a_damaged_or_oversized_batch_and_stays_usable", "[log]") {
  fault_fixture f;
  auto c = small_config();
  c.max_batch_bytes = 2000;
  auto l = open_log(f.fe, f.dir, c);
  auto big = make_batch(1, 1000, 5000);
  auto r = l->append(big, 0);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == errc::batch_too_large);
  auto bad = make_batch(2, 1000);
  bad[bad.size() - 1] ^= 1;
  r = l->append(bad, 0);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == errc::invalid_batch);
  auto two = make_batch(1, 1000);
  auto second = make_batch(1, 1001);
  two.insert(two.end(), second.begin(), second.end());
  CHECK(l->append(two, 0).status().code() == errc::invalid_batch);
  CHECK(l->log_end_offset() == 0);
  auto ok = make_batch(2, 1000);
  REQUIRE(l->append(ok, 0).ok());
  CHECK(l->log_end_offset() == 2);
}

TEST_CASE("follower_append_with_offsets_requires_the_log_end", "[log]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto b = make_batch(3, 1000);
  format::stamp_batch(b, 0, 4);
  REQUIRE(l->append_with_offsets(b).ok());
  auto b2 = make_batch(1, 1000);
  format::stamp_batch(b2, 5, 4);
  CHECK(l->append_with_offsets(b2).status().code() == errc::invalid_argument);
  format::stamp_batch(b2, 3, 4);
  REQUIRE(l->append_with_offsets(b2).ok());
  CHECK(l->log_end_offset() == 4);
}

}  // namespace kappa::storage::test

namespace kappa::storage::test {

TEST_CASE("an_active_segment_older_than_segment_ms_is_rolled", "[log]") {
  fault_fixture f;
  auto c = small_config(1 << 20);
  c.segment_ms = 60'000;
  f.fe.set_now_ms(1'000'000);
  auto l = open_log(f.fe, f.dir, c);
  auto b = make_batch(1, 1);
  REQUIRE(l->append(b, 0).ok());
  f.fe.set_now_ms(1'059'999);
  auto b2 = make_batch(1, 2);
  REQUIRE(l->append(b2, 0).ok());
  CHECK(l->segment_count() == 1);
  f.fe.set_now_ms(1'060'000);
  auto b3 = make_batch(1, 3);
  REQUIRE(l->append(b3, 0).ok());
  CHECK(l->segment_count() == 2);
  CHECK(read_all(*l).size() == 3);
}

}  // namespace kappa::storage::test
