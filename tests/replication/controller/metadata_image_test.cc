// The metadata image: record codec, apply() determinism, plan() errors and
// placement evenness.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "replication/controller/errc.h"
#include "replication/controller/metadata_image.h"

namespace kc = kappa::controller;

namespace {

kc::metadata_image with_brokers(std::vector<int32_t> ids) {
  kc::metadata_image img;
  int64_t off = 0;
  for (int32_t id : ids) {
    kc::broker_info b{id, "127.0.0.1:" + std::to_string(9000 + id),
                      "127.0.0.1:" + std::to_string(19000 + id)};
    REQUIRE(kc::apply(img, kc::register_broker_record{b}, off++).ok());
  }
  return img;
}

// Plans `cmd` and applies its records at the next offsets.
kappa::Status run(kc::metadata_image& img, const kc::command& cmd, std::vector<int32_t> live) {
  auto recs = kc::plan(img, cmd, live);
  if (!recs.ok()) return recs.status();
  for (const auto& r : *recs) {
    auto st = kc::apply(img, r, img.offset + 1);
    if (!st.ok()) return st;
  }
  return {};
}

std::error_code ec(kc::errc e) {
  return kc::make_error_code(e);
}

}  // namespace

TEST_CASE("ThreeBrokersThirtyPartitionsRf3AreEven", "[controller][placement]") {
  auto img = with_brokers({1, 2, 3});
  REQUIRE(run(img, kc::create_topic_command{"t", 30, 3, {}}, {1, 2, 3}).ok());
  const auto& t = img.topics.at("t");
  REQUIRE(t.partitions.size() == 30);
  std::map<int32_t, int> replicas, leaders;
  for (const auto& p : t.partitions) {
    REQUIRE(p.replicas.size() == 3);
    REQUIRE(std::set<int32_t>(p.replicas.begin(), p.replicas.end()).size() == 3);
    leaders[p.replicas[0]]++;
    for (int32_t r : p.replicas) replicas[r]++;
  }
  for (int32_t b : {1, 2, 3}) {
    CHECK(replicas[b] == 30);
    CHECK(leaders[b] == 10);
  }
}

TEST_CASE("FourBrokersRf2SpreadReplicasAndLeaders", "[controller][placement]") {
  auto img = with_brokers({4, 1, 3, 2});
  REQUIRE(run(img, kc::create_topic_command{"t", 8, 2, {}}, {4, 3, 2, 1}).ok());
  std::map<int32_t, int> replicas, leaders;
  std::set<std::pair<int32_t, int32_t>> pairs;
  for (const auto& p : img.topics.at("t").partitions) {
    REQUIRE(p.replicas.size() == 2);
    REQUIRE(p.replicas[0] != p.replicas[1]);
    leaders[p.replicas[0]]++;
    for (int32_t r : p.replicas) replicas[r]++;
    pairs.insert({p.replicas[0], p.replicas[1]});
  }
  for (int32_t b : {1, 2, 3, 4}) {
    CHECK(replicas[b] == 4);
    CHECK(leaders[b] == 2);
  }
  // The shift after a wrap gives each leader a different follower.
  CHECK(pairs.size() == 8);
}

TEST_CASE("SinglePartitionTopicsRotateTheirLeaders", "[controller][placement]") {
  auto img = with_brokers({1, 2, 3});
  std::map<int32_t, int> leaders;
  for (int i = 0; i < 9; ++i) {
    REQUIRE(run(img, kc::create_topic_command{"t" + std::to_string(i), 1, 2, {}}, {1, 2, 3}).ok());
    leaders[img.topics.at("t" + std::to_string(i)).partitions[0].replicas[0]]++;
  }
  for (int32_t b : {1, 2, 3}) CHECK(leaders[b] == 3);
}

TEST_CASE("PlacementUsesOnlyLiveBrokers", "[controller][placement]") {
  auto img = with_brokers({1, 2, 3});
  REQUIRE(run(img, kc::create_topic_command{"t", 6, 2, {}}, {1, 3}).ok());
  for (const auto& p : img.topics.at("t").partitions) {
    for (int32_t r : p.replicas) CHECK(r != 2);
  }
}

TEST_CASE("ReplicationFactorAboveLiveBrokersIsRefusedNamingTheLiveCount", "[controller][plan]") {
  auto img = with_brokers({1, 2, 3});
  auto r = kc::plan(img, kc::create_topic_command{"t", 1, 3, {}}, {1, 2});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ec(kc::errc::invalid_replication_factor));
  CHECK(r.status().code().value() == 38);
  CHECK_THAT(r.status().message(), Catch::Contains("2 live"));
  CHECK(kc::plan(img, kc::create_topic_command{"t", 1, 0, {}}, {1}).status().code() ==
        ec(kc::errc::invalid_replication_factor));
  CHECK(kc::plan(img, kc::create_topic_command{"t", 0, 1, {}}, {1}).status().code() ==
        ec(kc::errc::invalid_partitions));
}

TEST_CASE("ExistingTopicNameIsRefused", "[controller][plan]") {
  auto img = with_brokers({1});
  REQUIRE(run(img, kc::create_topic_command{"t", 1, 1, {}}, {1}).ok());
  auto st = run(img, kc::create_topic_command{"t", 1, 1, {}}, {1});
  CHECK(st.code() == ec(kc::errc::topic_already_exists));
  CHECK(st.code().value() == 36);
}

TEST_CASE("UnknownTopicIsRefused", "[controller][plan]") {
  auto img = with_brokers({1});
  CHECK(run(img, kc::delete_topic_command{"nope"}, {1}).code() ==
        ec(kc::errc::unknown_topic_or_partition));
  CHECK(run(img, kc::alter_configs_command{"nope", {}}, {1}).code().value() == 3);
  CHECK(run(img, kc::reassign_command{"nope", 0, {1}}, {1}).code() ==
        ec(kc::errc::unknown_topic_or_partition));
  REQUIRE(run(img, kc::create_topic_command{"t", 2, 1, {}}, {1}).ok());
  CHECK(run(img, kc::reassign_command{"t", 2, {1}}, {1}).code() ==
        ec(kc::errc::unknown_topic_or_partition));
}

TEST_CASE("ReassignmentLifecycle", "[controller][plan]") {
  auto img = with_brokers({1, 2, 3, 4});
  REQUIRE(run(img, kc::create_topic_command{"t", 1, 2, {}}, {1, 2, 3, 4}).ok());
  const auto before = img.topics.at("t").partitions[0];

  SECTION("unknown broker is an invalid request") {
    auto st = run(img, kc::reassign_command{"t", 0, {1, 9}}, {1, 2, 3, 4});
    CHECK(st.code() == ec(kc::errc::invalid_request));
    CHECK(st.code().value() == 42);
    CHECK(img.topics.at("t").partitions[0] == before);
  }
  SECTION("duplicate broker is an invalid request") {
    CHECK(run(img, kc::reassign_command{"t", 0, {1, 1}}, {1, 2, 3, 4}).code() ==
          ec(kc::errc::invalid_request));
  }
  SECTION("start, refuse a second, complete") {
    REQUIRE(run(img, kc::reassign_command{"t", 0, {3, 4}}, {1, 2, 3, 4}).ok());
    CHECK(img.topics.at("t").partitions[0].replicas == before.replicas);
    CHECK(img.topics.at("t").partitions[0].target == std::vector<int32_t>{3, 4});
    auto st = run(img, kc::reassign_command{"t", 0, {1, 2}}, {1, 2, 3, 4});
    CHECK(st.code() == ec(kc::errc::reassignment_in_progress));
    CHECK(st.code().value() == 60);
    CHECK(run(img, kc::complete_reassign_command{"t", 0, {4, 3}}, {}).code() ==
          ec(kc::errc::invalid_request));
    REQUIRE(run(img, kc::complete_reassign_command{"t", 0, {3, 4}}, {}).ok());
    CHECK(img.topics.at("t").partitions[0] == kc::partition_info{{3, 4}, {}});
    // A retried completion is a no-op, not an error.
    auto again = kc::plan(img, kc::complete_reassign_command{"t", 0, {3, 4}}, {});
    REQUIRE(again.ok());
    CHECK(again->empty());
  }
}

TEST_CASE("RegisteringAnUnchangedBrokerNeedsNoRecord", "[controller][plan]") {
  auto img = with_brokers({1});
  auto same = kc::plan(img, kc::register_broker_command{img.brokers.at(1)}, {});
  REQUIRE(same.ok());
  CHECK(same->empty());
  auto moved = img.brokers.at(1);
  moved.client_address = "127.0.0.1:1";
  auto changed = kc::plan(img, kc::register_broker_command{moved}, {});
  REQUIRE(changed.ok());
  REQUIRE(changed->size() == 1);
  REQUIRE(kc::apply(img, changed->front(), img.offset + 1).ok());
  CHECK(img.brokers.at(1) == moved);
}

TEST_CASE("ProducerIdBlocksNeverOverlap", "[controller][plan]") {
  kc::metadata_image img;
  REQUIRE(run(img, kc::allocate_producer_ids_command{1000}, {}).ok());
  REQUIRE(run(img, kc::allocate_producer_ids_command{10}, {}).ok());
  CHECK(img.next_producer_id == 1010);
  CHECK(run(img, kc::allocate_producer_ids_command{0}, {}).code() == ec(kc::errc::invalid_request));
  // A record reaching back below the next start is refused by apply().
  CHECK_FALSE(kc::apply(img, kc::producer_ids_record{5, 10}, img.offset + 1).ok());
}

TEST_CASE("RecreatedTopicGetsANewId", "[controller][apply]") {
  auto img = with_brokers({1});
  REQUIRE(run(img, kc::create_topic_command{"t", 1, 1, {}}, {1}).ok());
  const auto first = img.topics.at("t").id;
  REQUIRE(run(img, kc::delete_topic_command{"t"}, {1}).ok());
  REQUIRE(run(img, kc::create_topic_command{"t", 1, 1, {}}, {1}).ok());
  CHECK(img.topics.at("t").id > first);
}

TEST_CASE("ApplyIsDeterministicAndRefusesImpossibleRecords", "[controller][apply]") {
  std::vector<kc::metadata_record> log;
  {
    auto img = with_brokers({1, 2, 3});
    std::vector<kc::command> cmds = {
        kc::create_topic_command{"a", 3, 2, {{"retention.ms", "1000"}}},
        kc::create_topic_command{"b", 5, 3, {}},
        kc::alter_configs_command{"a", {{"segment.bytes", "1048576"}}},
        kc::reassign_command{"b", 1, {3, 2, 1}},
        kc::allocate_producer_ids_command{1000},
        kc::delete_topic_command{"a"},
    };
    for (int32_t id : {1, 2, 3}) log.push_back(kc::register_broker_record{img.brokers.at(id)});
    for (const auto& c : cmds) {
      auto recs = kc::plan(img, c, {1, 2, 3});
      REQUIRE(recs.ok());
      for (const auto& r : *recs) {
        REQUIRE(kc::apply(img, r, img.offset + 1).ok());
        log.push_back(r);
      }
    }
  }
  // Two brokers applying the same records (the second through the codec, and
  // at offsets with gaps as control batches leave them) hold equal images.
  kc::metadata_image x, y;
  int64_t off = 0;
  for (const auto& r : log) {
    REQUIRE(kc::apply(x, r, off).ok());
    auto decoded = kc::decode_record(kc::encode_record(r));
    REQUIRE(decoded.ok());
    REQUIRE(kc::apply(y, *decoded, off).ok());
    off += 2;
  }
  CHECK(x == y);
  CHECK(x.topics.count("a") == 0);
  CHECK(x.topics.at("b").partitions[1].target == std::vector<int32_t>{3, 2, 1});
  CHECK(x.next_producer_id == 1000);

  const auto before = x;
  CHECK_FALSE(kc::apply(x, kc::delete_topic_record{"a"}, off).ok());
  CHECK_FALSE(kc::apply(x, kc::create_topic_record{x.topics.at("b")}, off).ok());
  CHECK_FALSE(kc::apply(x, kc::set_partition_record{"b", 7, {{1}, {}}}, off).ok());
  CHECK_FALSE(kc::apply(x, kc::register_broker_record{{1, "a", "b"}}, x.offset).ok());
  CHECK(x == before);  // refused records change nothing
}

TEST_CASE("RecordCodecRoundTripsEveryKind", "[controller][codec]") {
  std::vector<kc::metadata_record> all = {
      kc::register_broker_record{{7, "h:1", "h:2"}},
      kc::create_topic_record{
          {"t", 42, {{{1, 2}, {}}, {{2, 3}, {3, 4}}}, {{"k", "v"}, {"a", "b"}}}},
      kc::delete_topic_record{"t"},
      kc::set_configs_record{"t", {{"retention.ms", "-1"}}},
      kc::set_partition_record{"t", 1, {{2, 3}, {3, 4}}},
      kc::producer_ids_record{1000, 1000},
  };
  for (const auto& r : all) {
    const auto bytes = kc::encode_record(r);
    auto back = kc::decode_record(bytes);
    REQUIRE(back.ok());
    CHECK(back->index() == r.index());
    CHECK(kc::encode_record(*back) == bytes);
  }
  CHECK_FALSE(kc::decode_record("\xff\xff\xff").ok());
  CHECK_FALSE(kc::decode_record("").ok());  // no kind set
}

TEST_CASE("ErrorCodesAreTheApiNumbers", "[controller][errc]") {
  CHECK(kc::api_error_code(kc::error(kc::errc::not_controller, "")) == 41);
  CHECK(kc::api_error_code(kc::error(kc::errc::request_timed_out, "")) == 7);
  CHECK(kc::api_error_code(kappa::Status()) == 0);
  CHECK(std::string(kc::error_category().name()) == "kappa.controller");
  auto st = kc::from_api_error_code(36, "x");
  CHECK(st.code() == ec(kc::errc::topic_already_exists));
}
