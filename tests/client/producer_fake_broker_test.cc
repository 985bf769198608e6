// The producer against the in-process fake broker: delivery, keyed
// placement, retries that must not duplicate, leader errors, a broker
// restart, and backpressure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>

#include "client/src/murmur2.h"
#include "kappa/producer.h"
#include "tests/client/fake_broker.h"

using kappa::test::fake_broker;
using kappa::test::fake_broker_state;
using kappa::test::produce_fault;

namespace {

kappa::producer_config config_for(const fake_broker& broker) {
  kappa::producer_config c;
  c.client.bootstrap = broker.address();
  c.client.retry_backoff_min_ms = 20;
  c.client.retry_backoff_max_ms = 200;
  c.client.reconnect_backoff_max_ms = 200;
  c.client.request_timeout_ms = 5000;
  c.linger_ms = 2;
  c.max_block_ms = 5000;
  c.delivery_timeout_ms = 20000;
  return c;
}

std::unique_ptr<kappa::producer> make_producer(const kappa::producer_config& c) {
  auto p = kappa::producer::create(c);
  REQUIRE(p.ok());
  return std::move(p).value();
}

// Waits (bounded) for a future; fails the test when it does not come.
kappa::delivery_report get(std::future<kappa::delivery_report>& f, int seconds = 20) {
  REQUIRE(f.wait_for(std::chrono::seconds(seconds)) == std::future_status::ready);
  return f.get();
}

// Values stored in a partition, to check exactly-once.
std::vector<std::string> values(const fake_broker_state& s, const kappa::topic_partition& tp) {
  std::vector<std::string> out;
  for (auto& r : s.records(tp)) out.push_back(r.value.value_or("<null>"));
  return out;
}

}  // namespace

TEST_CASE("keyed records land on Kafka's partitions with consecutive offsets", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 4);
  fake_broker broker(state);
  auto producer = make_producer(config_for(broker));
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(producer->send({.topic = "t", .key = "key-" + std::to_string(i % 10), .value = std::to_string(i)}));
  }
  REQUIRE(producer->flush(20000).ok());
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (int i = 0; i < 200; ++i) {
    auto r = get(futures[static_cast<size_t>(i)]);
    REQUIRE(r.ok());
    CHECK(r.partition == kappa::client::key_partition("key-" + std::to_string(i % 10), 4));
    offsets[r.partition].push_back(r.offset);
  }
  size_t total = 0;
  for (auto& [p, list] : offsets) {
    for (size_t k = 0; k < list.size(); ++k) CHECK(list[k] == static_cast<int64_t>(k));  // send order kept
    total += values(*state, {"t", p}).size();
  }
  CHECK(total == 200);
}

TEST_CASE("a dropped response is retried with the same sequence and not duplicated", "[client][producer][idempotence]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  auto producer = make_producer(config_for(broker));
  auto first = producer->send({.topic = "t", .value = "before"});
  REQUIRE(get(first).ok());

  state->inject(produce_fault::drop_response);  // appended, but the answer is lost
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(producer->send({.topic = "t", .partition = 0, .value = "v" + std::to_string(i)}));
  REQUIRE(producer->flush(20000).ok());
  for (auto& f : futures) REQUIRE(get(f).ok());

  // Exactly once, in order.
  auto stored = values(*state, {"t", 0});
  REQUIRE(stored.size() == 21);
  for (int i = 0; i < 20; ++i) CHECK(stored[static_cast<size_t>(i + 1)] == "v" + std::to_string(i));
  // The retry carried the sequence of the first attempt.
  std::map<int32_t, int> sends_per_sequence;
  int64_t pid = -1;
  for (const auto& a : state->attempts()) {
    ++sends_per_sequence[a.base_sequence];
    pid = a.producer_id;
  }
  CHECK(pid >= 1000);
  int resent = 0;
  for (auto& [seq, n] : sends_per_sequence) resent += n > 1;
  CHECK(resent >= 1);
  // Sequences are consecutive across the batches that landed.
  int32_t expected = 0;
  for (auto& [seq, n] : sends_per_sequence) {
    CHECK(seq == expected);
    for (const auto& a : state->attempts()) {
      if (a.base_sequence == seq) {
        expected = seq + a.record_count;
        break;
      }
    }
  }
}

TEST_CASE("NOT_LEADER_OR_FOLLOWER refreshes metadata and then succeeds", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 2);
  fake_broker broker(state);
  auto producer = make_producer(config_for(broker));
  REQUIRE(get(*std::make_unique<std::future<kappa::delivery_report>>(producer->send({.topic = "t", .partition = 1, .value = "a"}))).ok());
  const int metadata_before = state->metadata_requests();
  state->inject(produce_fault::not_leader);
  auto f = producer->send({.topic = "t", .partition = 1, .value = "b"});
  auto r = get(f);
  REQUIRE(r.ok());
  CHECK(r.offset == 1);
  CHECK(state->metadata_requests() > metadata_before);
  CHECK(values(*state, {"t", 1}) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a broker restart on the same port: the producer reconnects and delivers", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  auto broker = std::make_unique<fake_broker>(state);
  const int port = broker->port();
  auto producer = make_producer(config_for(*broker));
  auto a = producer->send({.topic = "t", .value = "a"});
  REQUIRE(get(a).ok());
  broker.reset();  // the broker goes away
  auto b = producer->send({.topic = "t", .value = "b"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(b.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);  // still retrying
  broker = std::make_unique<fake_broker>(state, port);
  auto rb = get(b);
  REQUIRE(rb.ok());
  CHECK(rb.offset == 1);
  CHECK(values(*state, {"t", 0}) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a full buffer blocks send for max_block_ms, then fails with queue_full", "[client][producer][backpressure]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  auto config = config_for(broker);
  config.buffer_bytes = 4096;
  config.batch_bytes = 1024;
  config.max_block_ms = 300;
  config.linger_ms = 0;
  auto producer = make_producer(config);
  state->set_withhold_responses(true);  // nothing is ever acknowledged
  int accepted = 0;
  std::vector<std::future<kappa::delivery_report>> futures;
  kappa::delivery_report refused;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {  // 100 x ~521 bytes cannot fit in 4 KiB
    started = std::chrono::steady_clock::now();
    futures.push_back(producer->send({.topic = "t", .value = std::string(500, 'x')}));
    if (futures.back().wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) {
      refused = futures.back().get();
      futures.pop_back();
      break;
    }
    ++accepted;
  }
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(accepted >= 6);
  CHECK(accepted <= 8);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status.code() == kappa::client_errc::queue_full);
  CHECK(waited >= std::chrono::milliseconds(250));
  CHECK(waited < std::chrono::seconds(5));
  // Closing fails what is still pending instead of hanging.
  CHECK_FALSE(producer->close(200).ok());
  for (auto& f : futures) {
    auto r = get(f, 5);
    CHECK(r.status.code() == kappa::client_errc::closed);
  }
}

TEST_CASE("records for an unknown topic fail after max_block_ms", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  fake_broker broker(state);
  auto config = config_for(broker);
  config.max_block_ms = 200;
  auto producer = make_producer(config);
  auto f = producer->send({.topic = "missing", .value = "x"});
  auto r = get(f, 5);
  CHECK(r.status.code() == kappa::client_errc::unknown_topic_or_partition);
}

TEST_CASE("acks=none and compression deliver without waiting for offsets", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  auto config = config_for(broker);
  config.required_acks = kappa::acks::none;
  config.compression = kappa::compression_codec::zstd;
  auto producer = make_producer(config);
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(producer->send({.topic = "t", .value = "z" + std::to_string(i)}));
  REQUIRE(producer->flush(10000).ok());
  for (auto& f : futures) {
    auto r = get(f);
    REQUIRE(r.ok());
    CHECK(r.offset == -1);
  }
  // Bounded wait for the fire-and-forget requests to be appended.
  for (int i = 0; i < 100 && values(*state, {"t", 0}).size() < 50; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(values(*state, {"t", 0}).size() == 50);
}

TEST_CASE("after a batch fails for good the producer bumps its epoch and keeps delivering", "[client][producer][idempotence]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  auto producer = make_producer(config_for(broker));
  auto a = producer->send({.topic = "t", .value = "a"});
  REQUIRE(get(a).ok());
  state->inject(produce_fault::too_large);
  auto b = producer->send({.topic = "t", .value = "b"});
  auto rb = get(b);
  CHECK(rb.status.code() == kappa::client_errc::message_too_large);
  // Without the bump "c" would carry sequence 2 where the broker expects 1
  // and fail with OUT_OF_ORDER_SEQUENCE_NUMBER forever.
  auto c = producer->send({.topic = "t", .value = "c"});
  auto rc = get(c);
  REQUIRE(rc.ok());
  CHECK(rc.offset == 1);
  CHECK(state->init_requests() == 2);
  CHECK(values(*state, {"t", 0}) == std::vector<std::string>{"a", "c"});
}

TEST_CASE("closing while the broker is gone is bounded and fails what is pending", "[client][producer]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  auto broker = std::make_unique<fake_broker>(state);
  auto producer = make_producer(config_for(*broker));
  auto a = producer->send({.topic = "t", .value = "a"});
  REQUIRE(get(a).ok());
  broker.reset();
  auto b = producer->send({.topic = "t", .value = "b"});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(producer->close(200).ok());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  CHECK(get(b, 1).status.code() == kappa::client_errc::closed);
  auto late = producer->send({.topic = "t", .value = "c"});
  CHECK(get(late, 1).status.code() == kappa::client_errc::closed);
}
