// Crashes at every write and fsync point, running out of space, failing
// fsyncs, and concurrent appenders sharing fsyncs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include "log_test_util.h"
#include "storage/log_scan.h"

namespace kappa::storage::test {
namespace {

struct run_outcome {
  std::vector<byte_buffer> acked;          // reported durable
  std::optional<byte_buffer> in_flight;    // the append that failed, as stamped
  bool completed = false;
};

// A fixed sequence: 30 appends (rolling several segments), a clean close, a
// reopen and 30 more. Stops at the first failure, as a dying process would.
run_outcome run_sequence(fault_env& fe, const std::string& dir, const log_config& c) {
  run_outcome out;
  for (int phase = 0; phase < 2; ++phase) {
    auto opened = log::open(fe, dir, c);
    if (!opened.ok()) return out;
    auto l = std::move(opened).value();
    if (!l->status().ok()) return out;
    for (int i = 0; i < 30; ++i) {
      auto b = make_batch(1 + (i % 3), 1000 * phase + i, 120, i);
      if (!l->append(b, phase).ok()) {
        out.in_flight = b;
        return out;
      }
      out.acked.push_back(b);
    }
    if (!l->close().ok()) return out;
  }
  out.completed = true;
  return out;
}

void crash_at_every_point(crash_mode mode) {
  auto c = small_config(2048);
  uint64_t k = 0;
  for (; k < 2000; ++k) {
    INFO("crash after " << k << " mutations, mode " << static_cast<int>(mode) << ", seed " << k);
    fault_fixture f;
    f.fe.fail_all_after(k);
    run_outcome out = run_sequence(f.fe, f.dir, c);
    f.fe.crash(mode, k);
    auto l = open_log(f.fe, f.dir, c);
    REQUIRE(l->status().ok());
    auto all = read_all(*l);
    // Every acknowledged append survives; beyond them, at most the one in flight.
    REQUIRE(all.size() >= out.acked.size());
    REQUIRE(all.size() <= out.acked.size() + (out.in_flight ? 1 : 0));
    for (size_t i = 0; i < all.size(); ++i) {
      REQUIRE(all[i] == (i < out.acked.size() ? out.acked[i] : *out.in_flight));
    }
    auto rep = scan_partition_dir(f.fe, f.dir);
    REQUIRE(rep.ok());
    CHECK(rep->verdict == scan_verdict::clean);
    // The recovered log takes appends again.
    auto b = make_batch(1, 77);
    auto r = l->append(b, 9);
    REQUIRE(r.ok());
    CHECK(r->base_offset == static_cast<int64_t>(all.empty() ? 0 : format::read_header(all.back()).last_offset() + 1));
    if (out.completed) break;
  }
  CHECK(k > 50);  // the sequence really had many crash points
  REQUIRE(k < 2000);
}

}  // namespace

TEST_CASE("crash_at_every_write_and_fsync_point_keeps_every_durable_append", "[log][crash]") {
  crash_at_every_point(crash_mode::drop_unsynced);
}

TEST_CASE("crash_at_every_write_and_fsync_point_with_torn_unsynced_tails", "[log][crash]") {
  crash_at_every_point(crash_mode::keep_random_unsynced_prefix);
}

TEST_CASE("out_of_space_fails_that_append_and_the_log_stays_consistent", "[log][crash]") {
  fault_fixture f;
  auto c = small_config(1 << 20);
  auto l = open_log(f.fe, f.dir, c);
  std::vector<byte_buffer> written;
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 1000 + i, 100, i);
    REQUIRE(l->append(b, 0).ok());
    written.push_back(b);
  }
  uint64_t used = 0;
  auto names = f.fe.list(f.dir);
  REQUIRE(names.ok());
  for (auto& n : *names) {
    auto size = f.fe.file_size(f.dir + "/" + n);
    if (size.ok()) used += *size;
  }
  f.fe.set_space_limit_bytes(used + 100);  // room for part of a batch only
  auto big = make_batch(4, 5000, 200);
  auto r = l->append(big, 0);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == std::errc::no_space_on_device);
  CHECK_THAT(r.status().message(), Catch::Contains("nothing was appended"));
  CHECK(l->status().ok());
  CHECK(l->log_end_offset() == 20);
  CHECK(read_all(*l) == written);

  f.fe.set_space_limit_bytes(UINT64_MAX);
  r = l->append(big, 0);
  REQUIRE(r.ok());
  CHECK(r->base_offset == 20);
  written.push_back(big);
  CHECK(read_all(*l) == written);
  l.reset();  // unclean reopen validates what is on disk
  l = open_log(f.fe, f.dir, c);
  CHECK(l->status().ok());
  CHECK(read_all(*l) == written);
}

TEST_CASE("a_failed_fsync_puts_the_log_in_the_failed_state_for_good", "[log][crash]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config());
  auto b = make_batch(2, 1000);
  REQUIRE(l->append(b, 0).ok());
  f.fe.fail_next_sync(EIO);
  auto b2 = make_batch(2, 1001);
  auto r = l->append(b2, 0);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == errc::log_failed);
  CHECK(l->status().code() == errc::log_failed);
  CHECK_THAT(l->status().message(), Catch::Contains("fsync"));
  CHECK(l->durable_end_offset() == 2);
  auto b3 = make_batch(1, 1002);
  CHECK(l->append(b3, 0).status().code() == errc::log_failed);
  CHECK(l->flush().code() == errc::log_failed);
  CHECK(l->read(0, 1 << 20).ok());  // reads still work
}

TEST_CASE("concurrent_appenders_share_fsyncs_and_get_distinct_contiguous_offsets", "[log][group_commit]") {
  fault_fixture f;
  auto l = open_log(f.fe, f.dir, small_config(16 << 10));
  constexpr int kThreads = 4, kPerThread = 60;
  std::vector<std::vector<append_result>> results(kThreads);
  std::vector<std::thread> threads;
  const uint64_t syncs_before = f.fe.sync_count();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto b = make_batch(1 + (i + t) % 3, 1000 + i, 80, t * 1000 + i);
        auto r = l->append(b, 0);
        if (r.ok()) results[t].push_back(*r);
        // The append returned: its offsets must already be durable.
        if (r.ok() && l->durable_end_offset() <= r->last_offset) results[t].clear();
      }
    });
  }
  // A reader runs concurrently with the appenders.
  std::thread reader([&] {
    for (int i = 0; i < 200; ++i) {
      auto v = l->read(0, 4096);
      if (v.ok()) for (auto& b : split_batches(v->batches)) REQUIRE(crc_ok(b));
    }
  });
  for (auto& t : threads) t.join();
  reader.join();
  std::vector<append_result> all;
  for (auto& r : results) {
    REQUIRE(r.size() == kPerThread);
    all.insert(all.end(), r.begin(), r.end());
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.base_offset < b.base_offset; });
  int64_t next = 0;
  for (auto& r : all) {
    REQUIRE(r.base_offset == next);
    next = r.last_offset + 1;
  }
  CHECK(l->log_end_offset() == next);
  auto batches = read_all(*l);
  CHECK(batches.size() == kThreads * kPerThread);
  for (auto& b : batches) CHECK(crc_ok(b));
  INFO("syncs: " << f.fe.sync_count() - syncs_before);
}

}  // namespace kappa::storage::test
