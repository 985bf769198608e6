// How metadata records sit in log batches, and --controller-voters parsing.
#include <catch2/catch.hpp>

#include "proto/format/record_batch.h"
#include "replication/controller/controller.h"
#include "replication/controller/errc.h"
#include "replication/controller/metadata_batches.h"
#include "replication/group/batch_entry_codec.h"

namespace kc = kappa::controller;

namespace {

// Stamps a base offset as the log does on append.
std::string at_offset(std::string batch, int64_t base) {
  kappa::format::stamp_batch(
      kappa::mutable_byte_view(reinterpret_cast<uint8_t*>(batch.data()), batch.size()), base, 1);
  return batch;
}

}  // namespace

TEST_CASE("MetadataBatchesWalkSkipsControlBatchesAndOffsetsBeforeFrom", "[controller][batches]") {
  std::vector<kc::metadata_record> first = {kc::register_broker_record{{1, "a:1", "a:2"}},
                                            kc::producer_ids_record{0, 10}};
  std::vector<kc::metadata_record> second = {kc::delete_topic_record{"t"}};
  auto b1 = kc::build_metadata_batch(first, 1000);
  auto b2 = kc::build_metadata_batch(second, 1000);
  REQUIRE(b1.ok());
  REQUIRE(b2.ok());
  // [0,1] records, [2] a leader's no-op, [3] a record.
  std::string log = at_offset(*b1, 0) +
                    kappa::replication::make_control_batch(
                        kappa::replication::kControlLeaderChange, std::string(8, '\0'),
                        kappa::raft::term_id(1), kappa::raft::log_index(2), 1000) +
                    at_offset(*b2, 3);
  std::vector<int64_t> offsets;
  auto walk = [&](int64_t from) {
    offsets.clear();
    return kc::walk_metadata_batches(kappa::as_bytes(log), from,
                                     [&](int64_t off, kc::metadata_record r) {
                                       offsets.push_back(off);
                                       CHECK(r.index() != std::variant_npos);
                                       return kappa::Status();
                                     });
  };
  auto all = walk(0);
  REQUIRE(all.ok());
  CHECK(*all == 4);
  CHECK(offsets == std::vector<int64_t>{0, 1, 3});
  auto tail = walk(1);
  REQUIRE(tail.ok());
  CHECK(offsets == std::vector<int64_t>{1, 3});
  auto none = walk(4);
  REQUIRE(none.ok());
  CHECK(offsets.empty());
  CHECK(*none == 4);

  // A damaged length is an error, not a crash.
  std::string bad = log.substr(0, log.size() - 3);
  auto cut = kc::walk_metadata_batches(
      kappa::as_bytes(bad), 0, [](int64_t, kc::metadata_record) { return kappa::Status(); });
  CHECK_FALSE(cut.ok());
}

TEST_CASE("ParseVoters", "[controller][voters]") {
  auto v = kc::parse_voters("1@127.0.0.1:19093,2@localhost:29093,3@[::1]:39093");
  REQUIRE(v.ok());
  REQUIRE(v->size() == 3);
  CHECK(v->at(0).id == 1);
  CHECK(v->at(0).internal_address == "127.0.0.1:19093");
  CHECK(v->at(2).internal_address == "[::1]:39093");
  auto empty = kc::parse_voters("");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  for (const char* bad :
       {"1@", "x@h:1", "0@h:1", "1@h", "1@h:", "1@h:1,,2@h:2", "1@h:1,1@h:2", "-1@h:1", "h:1"}) {
    auto r = kc::parse_voters(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.status().code() == kc::make_error_code(kc::errc::invalid_request));
  }
  auto named = kc::parse_voters("1@h:1,2@nohost");
  REQUIRE_FALSE(named.ok());
  CHECK_THAT(named.status().message(), Catch::Contains("2@nohost"));
}
