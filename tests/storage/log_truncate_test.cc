// Truncation (suffix, prefix) and retention (time, size).
#include <catch2/catch.hpp>

#include "log_test_util.h"

namespace kappa::storage::test {
namespace {

std::vector<byte_buffer> fill(log& l, int n, int64_t ts) {
  std::vector<byte_buffer> out;
  for (int i = 0; i < n; ++i) {
    auto b = make_batch(2, ts + i, 100, i);
    REQUIRE(l.append(b, 0).ok());
    out.push_back(b);
  }
  return out;
}

}  // namespace

TEST_CASE("truncate_suffix_cuts_whole_batches_drops_later_segments_and_survives_reopen", "[log][truncate]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto written = fill(*l, 60, 1000);
  const int segments = l->segment_count();
  REQUIRE(segments > 3);
  CHECK(l->truncate_suffix(41).code() == errc::invalid_argument);  // inside a batch
  CHECK(l->truncate_suffix(121).code() == errc::invalid_argument);  // past the end
  REQUIRE(l->truncate_suffix(40).ok());
  CHECK(l->log_end_offset() == 40);
  CHECK(l->segment_count() < segments);
  written.resize(20);
  CHECK(read_all(*l) == written);
  // Batch i holds timestamps 1000+i, 1001+i; the last kept is batch 19.
  auto ts = l->offset_for_timestamp(1019);
  REQUIRE(ts.ok());
  CHECK(*ts == std::optional<int64_t>(37));
  CHECK(*l->offset_for_timestamp(1020) == std::optional<int64_t>(39));
  CHECK(*l->offset_for_timestamp(1021) == std::nullopt);

  auto more = fill(*l, 5, 5000);
  written.insert(written.end(), more.begin(), more.end());
  CHECK(read_all(*l) == written);
  l.reset();  // unclean
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->status().ok());
  CHECK(read_all(*l) == written);
  REQUIRE(l->truncate_suffix(0).ok());
  CHECK(l->log_end_offset() == 0);
  CHECK(read_all(*l).empty());
  REQUIRE(l->close().ok());
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->log_end_offset() == 0);
}

TEST_CASE("truncate_suffix_under_a_live_view_rewrites_the_segment_instead_of_shrinking_it",
          "[log][truncate]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config(1 << 20));
  auto written = fill(*l, 20, 1000);
  auto view = l->read(20, 1 << 20);  // maps the bytes about to be cut
  REQUIRE(view.ok());
  byte_buffer before(view->batches.begin(), view->batches.end());
  REQUIRE(l->truncate_suffix(10).ok());
  CHECK(byte_buffer(view->batches.begin(), view->batches.end()) == before);
  for (auto& b : split_batches(view->batches)) CHECK(crc_ok(b));
  written.resize(5);
  CHECK(read_all(*l) == written);
  auto b = make_batch(1, 9);
  REQUIRE(l->append(b, 0).ok());
  CHECK(byte_buffer(view->batches.begin(), view->batches.end()) == before);
}

TEST_CASE("truncate_prefix_moves_the_start_deletes_whole_segments_and_persists", "[log][truncate]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto written = fill(*l, 60, 1000);
  const int segments = l->segment_count();
  REQUIRE(l->truncate_prefix(51).ok());
  CHECK(l->log_start_offset() == 51);
  CHECK(l->segment_count() < segments);
  CHECK(l->read(50, 100).status().code() == errc::offset_out_of_range);
  auto v = l->read(51, 1);
  REQUIRE(v.ok());
  CHECK(format::read_header(v->batches).base_offset == 50);  // the batch holding 51
  CHECK(l->truncate_prefix(121).code() == errc::invalid_argument);
  l.reset();  // unclean
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->log_start_offset() == 51);
  REQUIRE(l->close().ok());
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->log_start_offset() == 51);
  CHECK(l->log_end_offset() == 120);
}

TEST_CASE("retention_by_time_deletes_segments_whose_max_timestamp_expired", "[log][retention]") {
  fault_fixture f;
  auto c = small_config();
  c.retention_ms = 10'000;
  f.fe.set_now_ms(1'000'000);
  auto l = open_log(f.fe, f.dir, c);
  fill(*l, 40, 900'000);  // old
  const int old_segments = l->segment_count();
  fill(*l, 40, 995'000);  // recent
  const int all_segments = l->segment_count();
  auto r = l->enforce_retention();
  REQUIRE(r.ok());
  CHECK(r->segments_deleted >= old_segments - 1);
  CHECK(r->segments_deleted < all_segments);
  CHECK(l->log_start_offset() > 0);
  auto first = l->read(l->log_start_offset(), 1);
  REQUIRE(first.ok());
  f.fe.set_now_ms(2'000'000);  // everything expired, but the active segment stays
  r = l->enforce_retention();
  REQUIRE(r.ok());
  CHECK(l->segment_count() == 1);
  CHECK(l->log_end_offset() == 160);
}

TEST_CASE("retention_by_size_keeps_at_least_retention_bytes", "[log][retention]") {
  fault_fixture f;
  auto c = small_config();
  c.retention_bytes = 10'000;
  auto l = open_log(f.fe, f.dir, c);
  fill(*l, 100, 1000);
  const uint64_t before = l->size_bytes();
  REQUIRE(before > 20'000);
  auto r = l->enforce_retention();
  REQUIRE(r.ok());
  CHECK(r->segments_deleted > 0);
  CHECK(l->size_bytes() >= 10'000);
  CHECK(l->size_bytes() < 10'000 + 4096 + 1024);
  CHECK(before - l->size_bytes() == r->bytes_deleted);
  CHECK(read_all(*l).size() > 0);
}

}  // namespace kappa::storage::test
