// rebuild_producer_state: what a partition does at open and after a Raft
// divergence repair (on_truncate) — snapshot plus replay of the log, never
// remembering batches the log no longer holds.
#include <catch2/catch.hpp>

#include "broker/producer_state.h"
#include "proto/format/records.h"
#include "storage/env.h"
#include "storage/log.h"
#include "storage/metadata_file.h"

using namespace kappa;
using namespace kappa::broker;
using kind = sequence_check::kind;

namespace {

constexpr int64_t kPid = 42;

byte_buffer idempotent_batch(int32_t seq, int records) {
  std::vector<format::record> rs(records);
  for (int i = 0; i < records; ++i) {
    rs[i].value = "v" + std::to_string(seq + i);
    rs[i].timestamp = 1000 + seq + i;
  }
  format::batch_options o;
  o.producer_id = kPid;
  o.producer_epoch = 0;
  o.base_sequence = seq;
  auto b = format::build_batch(o, rs);
  REQUIRE(b.ok());
  return std::move(b).value();
}

format::batch_header header_of(int32_t seq, int records) {
  format::batch_header h;
  h.producer_id = kPid;
  h.producer_epoch = 0;
  h.base_sequence = seq;
  h.record_count = records;
  h.last_offset_delta = records - 1;
  return h;
}

struct fixture {
  std::unique_ptr<storage::env> env = storage::new_mem_env(uint64_t{8} << 20);
  std::string dir = "/data/t-0";
  std::string snapshot = dir + "/producer.snapshot";
  std::unique_ptr<storage::log> log;

  fixture() {
    storage::log_config c;
    c.segment_bytes = 4096;
    c.retention_ms = -1;
    auto l = storage::log::open(*env, dir, c);
    REQUIRE(l.ok());
    log = std::move(l).value();
  }
  // Appends 2-record batches with sequences 0, 2, 4, ... at offsets 0, 2, 4, ...
  void append_batches(int n) {
    for (int i = 0; i < n; ++i) {
      byte_buffer b = idempotent_batch(2 * i, 2);
      REQUIRE(log->append(mutable_byte_view(b.data(), b.size()), 1).ok());
    }
  }
};

}  // namespace

TEST_CASE("rebuilding after a truncation forgets the truncated batches",
          "[broker][producer_state][truncate]") {
  fixture f;
  f.append_batches(5);  // offsets 0..9, sequences 0..9
  producer_state s;
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &s).ok());
  REQUIRE(s.check(header_of(8, 2)).what == kind::duplicate);

  // The leader changed and this replica's last two batches were not
  // committed: they go (offsets 6..9, sequences 6..9).
  REQUIRE(f.log->truncate_suffix(6).ok());
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &s).ok());
  // A retry of sequence 6 is new data now, not a duplicate of a lost batch;
  // sequence 8 would be a gap.
  CHECK(s.check(header_of(6, 2)).what == kind::append);
  CHECK(s.check(header_of(8, 2)).what == kind::reject);
  auto dup = s.check(header_of(4, 2));
  REQUIRE(dup.what == kind::duplicate);
  CHECK(dup.original.base_offset == 4);
}

TEST_CASE("a snapshot past the truncated end is not used", "[broker][producer_state][truncate]") {
  fixture f;
  f.append_batches(5);
  producer_state s;
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &s).ok());
  // A clean shutdown saved the state covering offsets below 10.
  REQUIRE(
      storage::write_metadata_file(*f.env, f.snapshot, 1, s.encode(f.log->log_end_offset())).ok());
  REQUIRE(f.log->truncate_suffix(4).ok());
  producer_state r;
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &r).ok());
  CHECK(r.check(header_of(4, 2)).what == kind::append);
  CHECK(r.check(header_of(2, 2)).what == kind::duplicate);
}

TEST_CASE("a snapshot within the log is used and the rest replayed",
          "[broker][producer_state][truncate]") {
  fixture f;
  f.append_batches(2);  // sequences 0..3
  producer_state s;
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &s).ok());
  REQUIRE(
      storage::write_metadata_file(*f.env, f.snapshot, 1, s.encode(f.log->log_end_offset())).ok());
  // Two more batches after the snapshot (sequences 4..7, offsets 4..7), then
  // the last one is truncated.
  for (int32_t seq : {4, 6}) {
    byte_buffer b = idempotent_batch(seq, 2);
    REQUIRE(f.log->append(mutable_byte_view(b.data(), b.size()), 2).ok());
  }
  REQUIRE(f.log->truncate_suffix(6).ok());
  producer_state r;
  REQUIRE(rebuild_producer_state(*f.env, *f.log, f.snapshot, "t-0", &r).ok());
  CHECK(r.check(header_of(0, 2)).what == kind::duplicate);  // from the snapshot
  CHECK(r.check(header_of(4, 2)).what == kind::duplicate);  // replayed
  CHECK(r.check(header_of(6, 2)).what == kind::append);     // truncated
}
