// storage::log::reset (restart empty at a new start) and
// repair_corruption (truncate at the damage found at open).
#include "storage/segment.h"
#include "tests/storage/log_test_util.h"

namespace kappa::storage::test {
namespace {

void append_n(log& l, int n, int tag0 = 0) {
  for (int i = 0; i < n; ++i) {
    auto b = make_batch(2, 1000 + i, 100, tag0 + i);
    REQUIRE(l.append(b, 1).ok());
  }
}

}  // namespace

TEST_CASE("reset drops every segment and restarts empty at the new start", "[log][reset]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config(1024));
  append_n(*l, 20);
  REQUIRE(l->segment_count() > 1);
  REQUIRE(l->reset(500).ok());
  CHECK(l->log_start_offset() == 500);
  CHECK(l->log_end_offset() == 500);
  CHECK(l->segment_count() == 1);
  auto b = make_batch(1, 5);
  format::stamp_batch(b, 500, 3);
  REQUIRE(l->append_with_offsets(b).ok());
  REQUIRE(l->flush().ok());
  l.reset();
  auto again = open_log(f.fe, f.dir, small_config(1024));
  CHECK(again->log_start_offset() == 500);
  CHECK(again->log_end_offset() == 501);
  CHECK(read_all(*again).size() == 1);
}

TEST_CASE("reset survives a crash right after it", "[log][reset]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config(1024));
  append_n(*l, 20);
  REQUIRE(l->flush().ok());
  REQUIRE(l->reset(300).ok());
  f.fe.crash();
  l.reset();
  auto again = open_log(f.fe, f.dir, small_config(1024));
  CHECK(again->status().ok());
  CHECK(again->log_start_offset() == 300);
  CHECK(again->log_end_offset() == 300);
}

TEST_CASE("reset inside the log cuts it and restarts at the new start", "[log][reset]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config(1024));
  append_n(*l, 20);
  REQUIRE(l->reset(10).ok());
  CHECK(l->log_start_offset() == 10);
  CHECK(l->log_end_offset() == 10);
  l.reset();
  auto again = open_log(f.fe, f.dir, small_config(1024));
  CHECK(again->log_start_offset() == 10);
  CHECK(again->log_end_offset() == 10);
}

TEST_CASE("repair_corruption truncates at a flipped bit and reports the end before it",
          "[log][repair]") {
  fault_fixture f;
  const auto batch_bytes = make_batch(2, 0).size();
  {
    auto l = open_log(f.fe, f.dir, small_config(64 << 10));  // one segment
    append_n(*l, 10);
    REQUIRE(l->log_end_offset() == 20);
    REQUIRE(l->close().ok());
  }
  // Damage batch 4 (offsets 8..9) in its payload: valid batches follow, so
  // this is corruption, not a torn tail.
  const std::string seg = f.dir + "/" + segment::file_name(0, ".log");
  REQUIRE(f.fe.flip_bit(seg, 4 * batch_bytes + 70, 3).ok());
  // A clean checkpoint would skip the scan; make the open scan by damaging it too.
  REQUIRE(f.fe.remove(f.dir + "/partition.checkpoint").ok());
  auto l = open_log(f.fe, f.dir, small_config(64 << 10));
  REQUIRE(!l->status().ok());
  auto r = l->repair_corruption();
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->truncated_at == 8);
  CHECK(r->end_before == 20);
  CHECK(l->status().ok());
  CHECK(l->log_end_offset() == 8);
  auto b = make_batch(2, 5);
  format::stamp_batch(b, 8, 2);
  REQUIRE(l->append_with_offsets(b).ok());
  REQUIRE(l->close().ok());
  auto again = open_log(f.fe, f.dir, small_config(64 << 10));
  CHECK(again->status().ok());
  CHECK(again->log_end_offset() == 10);
  CHECK(read_all(*again).size() == 5);
}

TEST_CASE("repair_corruption deletes later segments after damage in an earlier one",
          "[log][repair]") {
  fault_fixture f;
  {
    auto l = open_log(f.fe, f.dir, small_config(1024));
    append_n(*l, 20);
    REQUIRE(l->segment_count() > 2);
    REQUIRE(l->flush().ok());
  }
  const std::string seg = f.dir + "/" + segment::file_name(0, ".log");
  REQUIRE(f.fe.flip_bit(seg, 100, 1).ok());
  // Past the recovery point only the last segment is scanned: make the open scan all.
  REQUIRE(f.fe.remove(f.dir + "/partition.checkpoint").ok());
  auto l = open_log(f.fe, f.dir, small_config(1024));
  REQUIRE(!l->status().ok());
  auto r = l->repair_corruption();
  REQUIRE(r.ok());
  CHECK(r->truncated_at == 0);
  CHECK(r->end_before == 40);
  CHECK(l->log_end_offset() == 0);
  CHECK(l->segment_count() == 1);
  append_n(*l, 3);
  CHECK(l->log_end_offset() == 6);
  l.reset();
  auto again = open_log(f.fe, f.dir, small_config(1024));
  CHECK(again->status().ok());
  CHECK(again->log_end_offset() == 6);
}

TEST_CASE("repair_corruption refuses a healthy log", "[log][repair]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  CHECK(l->repair_corruption().status().code() == errc::invalid_argument);
}

}  // namespace kappa::storage::test

namespace kappa::storage::test {

TEST_CASE("a crash at any point of reset leaves the old log or the empty one",
          "[log][reset][crash]") {
  for (uint64_t k = 0; k < 40; ++k) {
    fault_fixture f;
    {
      auto l = open_log(f.fe, f.dir, small_config(1024));
      append_n(*l, 20);
      REQUIRE(l->flush().ok());
      f.fe.fail_all_after(k);
      (void)l->reset(300);
      f.fe.crash();
    }
    auto l = open_log(f.fe, f.dir, small_config(1024));
    INFO("crash after " << k << " mutations: " << l->status().to_string());
    REQUIRE(l->status().ok());
    const bool old_log = l->log_start_offset() == 0 && l->log_end_offset() == 40;
    const bool empty = l->log_start_offset() == 300 && l->log_end_offset() == 300;
    CHECK((old_log || empty));
    if (old_log) CHECK(read_all(*l).size() == 20);
  }
}

}  // namespace kappa::storage::test

namespace kappa::storage::test {

TEST_CASE(
    "a crash at any point of a reset to the log's own base leaves the old log or an empty one",
    "[log][reset][crash]") {
  for (uint64_t k = 0; k < 30; ++k) {
    fault_fixture f;
    {
      auto l = open_log(f.fe, f.dir, small_config(64 << 10));  // one segment, base 0
      append_n(*l, 10);
      REQUIRE(l->flush().ok());
      f.fe.fail_all_after(k);
      (void)l->reset(0);
      f.fe.crash();
    }
    auto l = open_log(f.fe, f.dir, small_config(64 << 10));
    INFO("crash after " << k << " mutations: " << l->status().to_string());
    REQUIRE(l->status().ok());
    CHECK(l->log_start_offset() == 0);
    const bool old_log = l->log_end_offset() == 20 && read_all(*l).size() == 10;
    const bool empty = l->log_end_offset() == 0;
    CHECK((old_log || empty));
  }
}

}  // namespace kappa::storage::test
