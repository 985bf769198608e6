// Opening a log after a clean close, after a crash, and over damage: what is
// trusted, what is rebuilt, what is truncated and what is reported.
#include <catch2/catch.hpp>

#include "log_test_util.h"
#include "storage/log_scan.h"
#include "storage/segment.h"

namespace kappa::storage::test {
namespace {

std::vector<std::string> log_files(env& e, const std::string& dir) {
  auto names = e.list(dir);
  REQUIRE(names.ok());
  std::vector<std::string> out;
  for (auto& n : *names) {
    if (segment::parse_log_name(n)) out.push_back(dir + "/" + n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Appends `n` batches of 2 records; returns them as stamped.
std::vector<byte_buffer> fill(log& l, int n, int64_t ts = 1000) {
  std::vector<byte_buffer> out;
  for (int i = 0; i < n; ++i) {
    auto b = make_batch(2, ts + i, 100, i);
    auto r = l.append(b, 0);
    REQUIRE(r.ok());
    out.push_back(b);
  }
  return out;
}

// Position of the batch holding `offset` in a segment file.
uint64_t position_of(env& e, const std::string& path, int64_t offset) {
  auto f = e.open(path, open_mode::read_only);
  REQUIRE(f.ok());
  auto size = (*f)->size();
  REQUIRE(size.ok());
  byte_buffer buf(*size);
  REQUIRE((*f)->pread(0, buf).ok());
  uint64_t pos = 0;
  while (pos < buf.size()) {
    auto h = format::read_header(byte_view(buf).subspan(pos));
    if (h.last_offset() >= offset) return pos;
    pos += h.size_bytes();
  }
  FAIL("offset not in segment");
  return 0;
}

}  // namespace

TEST_CASE("clean_reopen_trusts_the_checkpoint_and_does_not_scan_segments", "[log][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto written = fill(*l, 60);
  const int64_t end = l->log_end_offset();
  REQUIRE(l->close().ok());
  auto files = log_files(f.fe, f.dir);
  REQUIRE(files.size() >= 3);
  // Flip a payload bit of a batch in a middle segment: a scan would see it.
  const std::string& victim = files[files.size() / 2];
  REQUIRE(f.fe.flip_bit(victim, 100, 3).ok());

  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->status().ok());  // not noticed: the clean open read no middle segment
  CHECK(l->log_end_offset() == end);

  auto rep = scan_partition_dir(f.fe, f.dir);  // but verification notices
  REQUIRE(rep.ok());
  CHECK(rep->verdict == scan_verdict::corruption);
  CHECK(rep->segment_path == victim);
  CHECK(rep->position == 0);  // the batch holding byte 100 starts at 0
}

TEST_CASE("a_first_write_after_a_clean_open_makes_the_next_crash_recover", "[log][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  fill(*l, 10);
  REQUIRE(l->close().ok());
  l = open_log(f.fe, f.dir, small_config());
  auto more = fill(*l, 3, 5000);
  l.reset();  // no close: a crash
  f.fe.crash();
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->status().ok());
  CHECK(l->log_end_offset() == 26);
  CHECK(read_all(*l).back() == more.back());
}

TEST_CASE("a_deleted_index_is_rebuilt_from_its_segment", "[log][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto written = fill(*l, 60);
  REQUIRE(l->close().ok());
  auto files = log_files(f.fe, f.dir);
  std::string index = files[1].substr(0, files[1].size() - 4) + ".index";
  std::string tindex = files[1].substr(0, files[1].size() - 4) + ".timeindex";
  REQUIRE(f.fe.remove(index).ok());
  REQUIRE(f.fe.remove(tindex).ok());
  l = open_log(f.fe, f.dir, small_config());
  CHECK(f.fe.exists(index));
  auto size = f.fe.file_size(index);
  REQUIRE(size.ok());
  CHECK(*size > 0);
  CHECK(read_all(*l, 300) == written);
  // Batch i holds timestamps 1000+i, 1001+i: 1030 first appears in batch 29's second record.
  CHECK(l->offset_for_timestamp(1030).value() == std::optional<int64_t>(59));
}

TEST_CASE("a_damaged_index_is_rebuilt_and_lookups_stay_right", "[log][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto written = fill(*l, 60);
  REQUIRE(l->close().ok());
  auto files = log_files(f.fe, f.dir);
  std::string index = files[1].substr(0, files[1].size() - 4) + ".index";
  {
    // Entries that decrease: fails the open-time sanity check.
    auto fh = f.fe.open(index, open_mode::read_write);
    REQUIRE(fh.ok());
    uint8_t junk[16] = {0, 0, 0, 9, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 1, 0};
    REQUIRE((*fh)->truncate(0).ok());
    REQUIRE((*fh)->pwrite(0, byte_view(junk, 16)).ok());
  }
  l = open_log(f.fe, f.dir, small_config());
  CHECK(l->status().ok());
  CHECK(read_all(*l, 1) == written);  // one batch at a time: every lookup goes through the index
  auto size = f.fe.file_size(index);
  REQUIRE(size.ok());
  CHECK(*size % 8 == 0);
  CHECK(*size != 16);
}

TEST_CASE("a_torn_tail_is_truncated_and_everything_synced_survives", "[log][recovery][crash]") {
  for (uint64_t seed = 0; seed < 24; ++seed) {
    INFO("seed " << seed);
    fault_fixture f;
    auto c = small_config();
    c.flush = flush_policy::interval;
    auto l = open_log(f.fe, f.dir, c);
    auto synced = fill(*l, 25);
    REQUIRE(l->flush().ok());
    auto unsynced = fill(*l, 5, 9000);
    l.reset();
    f.fe.crash(crash_mode::keep_random_unsynced_prefix, seed);
    l = open_log(f.fe, f.dir, c);
    REQUIRE(l->status().ok());
    auto all = read_all(*l);
    REQUIRE(all.size() >= synced.size());
    REQUIRE(all.size() <= synced.size() + unsynced.size());
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i] == (i < synced.size() ? synced[i] : unsynced[i - synced.size()]));
    }
    auto rep = scan_partition_dir(f.fe, f.dir);
    REQUIRE(rep.ok());
    CHECK(rep->verdict == scan_verdict::clean);
    auto b = make_batch(1, 99999);
    REQUIRE(l->append(b, 0).ok());
  }
}

TEST_CASE("a_flipped_bit_mid_log_with_valid_data_after_is_corruption_and_nothing_is_truncated",
          "[log][recovery]") {
  fault_fixture f;
  auto c = small_config(1 << 20);  // one segment: the damage is in the final one
  auto l = open_log(f.fe, f.dir, c);
  auto written = fill(*l, 30);
  l.reset();  // unclean: the next open validates
  auto files = log_files(f.fe, f.dir);
  REQUIRE(files.size() == 1);
  const uint64_t pos = position_of(f.fe, files[0], 20);  // batch 10 holds offsets 20, 21
  auto size_before = f.fe.file_size(files[0]);
  REQUIRE(f.fe.flip_bit(files[0], pos + 70, 1).ok());

  l = open_log(f.fe, f.dir, c);
  Status st = l->status();
  REQUIRE(!st.ok());
  CHECK(st.code() == errc::corruption);
  CHECK_THAT(st.message(), Catch::Contains(files[0]));
  CHECK_THAT(st.message(), Catch::Contains("at byte " + std::to_string(pos)));
  CHECK(l->log_end_offset() == 20);
  CHECK(f.fe.file_size(files[0]).value() == size_before.value());
  // Reads below the damage work; appends are refused.
  auto below = read_all(*l);
  REQUIRE(below.size() == 10);
  for (size_t i = 0; i < below.size(); ++i) CHECK(below[i] == written[i]);
  auto b = make_batch(1, 5);
  CHECK(l->append(b, 0).status().code() == errc::corruption);
  REQUIRE(l->close().code() == errc::corruption);

  // Still reported (and still untouched) at the next open: close wrote no clean checkpoint.
  l = open_log(f.fe, f.dir, c);
  CHECK(l->status().code() == errc::corruption);
  CHECK(f.fe.file_size(files[0]).value() == size_before.value());
  auto rep = scan_partition_dir(f.fe, f.dir);
  REQUIRE(rep.ok());
  CHECK(rep->verdict == scan_verdict::corruption);
  CHECK(rep->position == pos);
  CHECK(rep->batches == 10);
  CHECK(rep->next_offset == 20);
}

TEST_CASE("damage_in_a_non_final_segment_is_corruption_even_at_its_end", "[log][recovery]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  fill(*l, 40);
  l.reset();
  auto files = log_files(f.fe, f.dir);
  REQUIRE(files.size() >= 2);
  // Cut the last batch of the first segment in half.
  auto size = f.fe.file_size(files[0]).value();
  {
    auto fh = f.fe.open(files[0], open_mode::read_write);
    REQUIRE(fh.ok());
    REQUIRE((*fh)->truncate(size - 30).ok());
  }
  auto rep = scan_partition_dir(f.fe, f.dir);
  REQUIRE(rep.ok());
  CHECK(rep->verdict == scan_verdict::corruption);
  CHECK(rep->segment_path == files[0]);
  auto one = scan_segment_file(f.fe, files[0]);  // alone, it is judged as a final segment
  REQUIRE(one.ok());
  CHECK(one->verdict == scan_verdict::torn_tail);
}

}  // namespace kappa::storage::test
