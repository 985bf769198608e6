// The log on the real filesystem (posix_env): real mmap, rename and fsync.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "log_test_util.h"
#include "storage/log_scan.h"

namespace kappa::storage::test {

TEST_CASE("log_on_posix_round_trips_reopens_and_truncates_under_views", "[log][posix]") {
  char tmpl[] = "/tmp/kappa_log_test_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  env& e = posix_env();
  const std::string dir = root + "/topic-0";
  auto c = small_config(8192);
  std::vector<byte_buffer> written;
  {
    auto l = open_log(e, dir, c);
    for (int i = 0; i < 80; ++i) {
      auto b = make_batch(2, 1000 + i, 150, i);
      REQUIRE(l->append(b, 1).ok());
      written.push_back(b);
    }
    CHECK(l->segment_count() > 3);
    CHECK(read_all(*l, 1000) == written);
    REQUIRE(l->close().ok());
  }
  {
    auto l = open_log(e, dir, c);  // clean
    CHECK(read_all(*l, 1) == written);
    auto view = l->read(100, 1 << 20);
    REQUIRE(view.ok());
    byte_buffer before(view->batches.begin(), view->batches.end());
    REQUIRE(l->truncate_suffix(100).ok());
    REQUIRE(l->truncate_prefix(20).ok());
    CHECK(byte_buffer(view->batches.begin(), view->batches.end()) == before);
    for (int i = 0; i < 10; ++i) {
      auto b = make_batch(1, 5000 + i);
      REQUIRE(l->append(b, 2).ok());
    }
    CHECK(l->log_end_offset() == 110);
  }  // no close: the next open recovers
  {
    auto l = open_log(e, dir, c);
    CHECK(l->status().ok());
    CHECK(l->log_start_offset() == 20);
    CHECK(l->log_end_offset() == 110);
    auto rep = scan_partition_dir(e, dir);
    REQUIRE(rep.ok());
    CHECK(rep->verdict == scan_verdict::clean);
    REQUIRE(l->close().ok());
  }
  REQUIRE(e.remove_all(root).ok());
}

}  // namespace kappa::storage::test
