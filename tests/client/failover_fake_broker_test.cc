// Leader changes against a cluster of in-process fake brokers sharing one
// state (fake_broker.h): the producer and consumer follow leader hints and
// metadata refreshes, retry with backoff, and with idempotence a failover
// causes neither loss nor duplicates. Also: a dead first bootstrap address.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kappa/consumer.h"
#include "kappa/producer.h"
#include "tests/client/fake_broker.h"

using kappa::test::fake_broker;
using kappa::test::fake_broker_state;
using kappa::test::produce_fault;

namespace {

const kappa::topic_partition tp0{"t", 0};

kappa::client_config client_for(const std::string& bootstrap) {
  kappa::client_config c;
  c.bootstrap = bootstrap;
  c.retry_backoff_min_ms = 20;
  c.retry_backoff_max_ms = 200;
  c.reconnect_backoff_max_ms = 200;
  c.request_timeout_ms = 5000;
  c.connect_timeout_ms = 1000;
  return c;
}

kappa::producer_config producer_config_for(const std::string& bootstrap) {
  kappa::producer_config c;
  c.client = client_for(bootstrap);
  c.linger_ms = 0;
  c.batch_bytes = 256;  // a few records per batch: many batches in flight
  c.max_block_ms = 5000;
  c.delivery_timeout_ms = 20000;
  return c;
}

std::unique_ptr<kappa::producer> make_producer(const kappa::producer_config& c) {
  auto p = kappa::producer::create(c);
  REQUIRE(p.ok());
  return std::move(p).value();
}

std::unique_ptr<kappa::consumer> make_consumer(const std::string& bootstrap, int64_t metadata_max_age_ms = 300000) {
  kappa::consumer_config c;
  c.client = client_for(bootstrap);
  c.client.metadata_max_age_ms = metadata_max_age_ms;
  c.fetch_max_wait_ms = 50;
  c.auto_offset_reset = kappa::offset_reset::earliest;
  auto made = kappa::consumer::create(c);
  REQUIRE(made.ok());
  return std::move(made).value();
}

kappa::delivery_report get(std::future<kappa::delivery_report>& f, int seconds = 20) {
  REQUIRE(f.wait_for(std::chrono::seconds(seconds)) == std::future_status::ready);
  return f.get();
}

std::vector<std::string> values(const fake_broker_state& s, const kappa::topic_partition& tp) {
  std::vector<std::string> out;
  for (auto& r : s.records(tp)) out.push_back(r.value.value_or("<null>"));
  return out;
}

std::vector<std::string> expected_values(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("v" + std::to_string(i));
  return out;
}

// Every record of futures[i] ("v<first + i>") acknowledged at offset
// first + i: once each, in send order.
void check_delivered_in_order(std::vector<std::future<kappa::delivery_report>>& futures, int first) {
  for (size_t i = 0; i < futures.size(); ++i) {
    auto r = get(futures[i]);
    INFO("record " << i << ": " << r.status.message());
    REQUIRE(r.ok());
    CHECK(r.offset == first + static_cast<int64_t>(i));
  }
}

// A sequence number sent more than once was the same batch each time (same
// record count, same producer id), and the batches that landed carry
// consecutive sequences.
void check_sequences(const fake_broker_state& s, int total_records) {
  std::map<int32_t, int32_t> count_of;  // base sequence -> record count
  std::set<int64_t> producer_ids;
  for (const auto& a : s.attempts()) {
    producer_ids.insert(a.producer_id);
    auto [it, inserted] = count_of.emplace(a.base_sequence, a.record_count);
    if (!inserted) CHECK(it->second == a.record_count);
  }
  CHECK(producer_ids.size() == 1);
  CHECK(*producer_ids.begin() >= 1000);
  int32_t expected = 0;
  for (const auto& [seq, count] : count_of) {
    CHECK(seq == expected);
    expected = seq + count;
  }
  CHECK(expected == total_records);
}

// A loopback port nobody listens on (connections are refused).
int dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Bounded wait for a condition (at most ~5 s).
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace

TEST_CASE("the leader moves mid-stream: every record once, in order, same sequences on retry",
          "[client][producer][failover]") {
  const bool hints = GENERATE(true, false);
  const bool idempotent = GENERATE(true, false);
  if (!hints && !idempotent) return;  // covered by the two others
  INFO("hints " << hints << ", idempotence " << idempotent);
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  state->set_leader_hints(hints);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto config = producer_config_for(b1.address() + "," + b2.address());
  config.idempotence = idempotent;
  auto producer = make_producer(config);

  constexpr int kRecords = 300;
  std::vector<std::future<kappa::delivery_report>> futures;
  // The first record settles metadata and the producer id, so no refresh
  // of the start-up races the move below.
  auto first = producer->send({.topic = "t", .partition = 0, .value = "v0"});
  REQUIRE(get(first).ok());
  int metadata_at_move = 0;
  for (int i = 1; i < kRecords; ++i) {
    if (i == 100) {
      metadata_at_move = state->metadata_requests();
      state->move_leader(tp0, 2);
    }
    futures.push_back(producer->send({.topic = "t", .partition = 0, .value = "v" + std::to_string(i)}));
  }
  REQUIRE(producer->flush(20000).ok());
  check_delivered_in_order(futures, 1);
  CHECK(values(*state, tp0) == expected_values(0, kRecords));
  CHECK(state->redirects() >= 1);  // broker 1 did turn requests away
  CHECK(state->produce_requests_at(2) > 0);
  if (hints) {
    // The hint re-routed the partition: no Metadata round trip needed.
    CHECK(state->metadata_requests() == metadata_at_move);
  } else {
    CHECK(state->metadata_requests() > metadata_at_move);
  }
  if (idempotent) check_sequences(*state, kRecords);
}

TEST_CASE("NOT_ENOUGH_REPLICAS after the append: the retry is a duplicate with the original offset",
          "[client][producer][failover][idempotence]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1.address() + "," + b2.address()));
  auto a = producer->send({.topic = "t", .value = "v0"});
  REQUIRE(get(a).ok());

  SECTION("same leader") {}
  SECTION("and the leader moves meanwhile") { state->move_leader_on_fault(2); }

  state->inject(produce_fault::not_enough_replicas);  // stored, but the answer says "not committed"
  auto b = producer->send({.topic = "t", .value = "v1"});
  auto rb = get(b);
  REQUIRE(rb.ok());
  CHECK(rb.offset == 1);  // the offset of the first, stored attempt
  auto c = producer->send({.topic = "t", .value = "v2"});
  auto rc = get(c);
  REQUIRE(rc.ok());
  CHECK(rc.offset == 2);
  CHECK(values(*state, tp0) == expected_values(0, 3));
  // "v1" went twice with one sequence; nothing was re-sequenced.
  int sends_of_1 = 0;
  for (const auto& a2 : state->attempts()) sends_of_1 += a2.base_sequence == 1;
  CHECK(sends_of_1 == 2);
  check_sequences(*state, 3);
  CHECK(state->init_requests() == 1);  // no epoch bump for a retriable error
}

TEST_CASE("a leader that dies with batches in flight: they are re-sent in order to the new leader",
          "[client][producer][failover][idempotence]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  auto b1 = std::make_unique<fake_broker>(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1->address() + "," + b2.address()));
  auto first = producer->send({.topic = "t", .value = "v0"});
  REQUIRE(get(first).ok());

  // Broker 1 appends (to the shared, "replicated" log) but never answers.
  state->set_withhold_responses(true);
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 1; i <= 60; ++i) {
    futures.push_back(producer->send({.topic = "t", .partition = 0, .value = "v" + std::to_string(i)}));
  }
  REQUIRE(eventually([&] { return values(*state, tp0).size() >= 10; }));
  // It dies; broker 2 leads now. Its answer to the stored batches: duplicates.
  state->move_leader(tp0, 2);
  state->set_withhold_responses(false);
  b1.reset();

  REQUIRE(producer->flush(20000).ok());
  check_delivered_in_order(futures, 1);
  CHECK(values(*state, tp0) == expected_values(0, 61));
  check_sequences(*state, 61);
  CHECK(state->init_requests() == 1);
}

TEST_CASE("an election window: LEADER_NOT_AVAILABLE delays delivery but loses nothing",
          "[client][producer][failover]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1.address() + "," + b2.address()));
  auto first = producer->send({.topic = "t", .value = "v0"});
  REQUIRE(get(first).ok());
  state->move_leader(tp0, -1);
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 1; i <= 20; ++i) {
    futures.push_back(producer->send({.topic = "t", .partition = 0, .value = "v" + std::to_string(i)}));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (auto& f : futures) CHECK(f.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  state->move_leader(tp0, 2);
  REQUIRE(producer->flush(20000).ok());
  check_delivered_in_order(futures, 1);
  CHECK(values(*state, tp0) == expected_values(0, 21));
  check_sequences(*state, 21);
}

TEST_CASE("a dead first bootstrap address costs at most a connect attempt", "[client][failover]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  const std::string bootstrap = "127.0.0.1:" + std::to_string(dead_port()) + "," + broker.address();

  auto started = std::chrono::steady_clock::now();
  auto producer = make_producer(producer_config_for(bootstrap));
  auto f = producer->send({.topic = "t", .value = "v0"});
  auto r = get(f, 10);
  REQUIRE(r.ok());
  CHECK(r.offset == 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));

  started = std::chrono::steady_clock::now();
  auto consumer = make_consumer(bootstrap);
  REQUIRE(consumer->assign({tp0}).ok());
  std::vector<int64_t> offsets;
  for (int i = 0; i < 50 && offsets.empty(); ++i) {
    auto polled = consumer->poll(100);
    REQUIRE(polled.ok());
    for (const auto& rec : *polled) offsets.push_back(rec.offset);
  }
  CHECK(offsets == std::vector<int64_t>{0});
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

TEST_CASE("the consumer follows a leader move without gaps or duplicates", "[client][consumer][failover]") {
  const bool stream = GENERATE(true, false);
  const bool kill_old_leader = GENERATE(false, true);
  INFO("FetchStream " << stream << ", old leader killed " << kill_old_leader);
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  state->set_fetch_stream(stream);
  auto b1 = std::make_unique<fake_broker>(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1->address()));
  auto consumer = make_consumer(b1->address() + "," + b2.address());
  REQUIRE(consumer->assign({tp0}).ok());

  std::vector<int64_t> offsets;
  std::vector<std::string> seen;
  auto poll_until = [&](size_t want) {
    for (int i = 0; i < 100 && offsets.size() < want; ++i) {
      auto polled = consumer->poll(50);
      REQUIRE(polled.ok());
      for (const auto& rec : *polled) {
        offsets.push_back(rec.offset);
        seen.push_back(rec.value.value_or(""));
      }
    }
  };
  auto produce = [&](int from, int to) {
    std::vector<std::future<kappa::delivery_report>> futures;
    for (int i = from; i < to; ++i) futures.push_back(producer->send({.topic = "t", .value = "v" + std::to_string(i)}));
    REQUIRE(producer->flush(20000).ok());
    for (auto& f : futures) REQUIRE(get(f).ok());
  };

  produce(0, 50);
  poll_until(20);  // mid-way through the first records, or all of them
  state->move_leader(tp0, 2);
  if (kill_old_leader) b1.reset();
  produce(50, 100);  // the producer follows too
  poll_until(100);
  std::vector<int64_t> want(100);
  for (int i = 0; i < 100; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(offsets == want);
  CHECK(seen == expected_values(0, 100));
  CHECK(state->fetches_at(2) > 0);
  // Nothing more: no record delivered twice after the switch.
  auto idle = consumer->poll(200);
  REQUIRE(idle.ok());
  CHECK(idle->empty());
}

TEST_CASE("a new leader whose high watermark lags: no reset, no record twice", "[client][consumer][failover]") {
  const bool stream = GENERATE(true, false);
  INFO("FetchStream " << stream);
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  state->set_fetch_stream(stream);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1.address() + "," + b2.address()));
  // auto_offset_reset earliest: a reset would deliver everything again.
  auto consumer = make_consumer(b1.address() + "," + b2.address());
  REQUIRE(consumer->assign({tp0}).ok());
  std::vector<int64_t> offsets;
  auto poll_until = [&](size_t want) {
    for (int i = 0; i < 100 && offsets.size() < want; ++i) {
      auto polled = consumer->poll(50);
      REQUIRE(polled.ok());
      for (const auto& rec : *polled) offsets.push_back(rec.offset);
    }
  };
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(producer->send({.topic = "t", .value = "v" + std::to_string(i)}));
  REQUIRE(producer->flush(20000).ok());
  poll_until(50);
  REQUIRE(offsets.size() == 50);
  // Broker 2 takes over knowing a commit index of only 30 for a while.
  state->lag_high_watermark(2, 30, 400);
  state->move_leader(tp0, 2);
  for (int i = 50; i < 60; ++i) futures.push_back(producer->send({.topic = "t", .value = "v" + std::to_string(i)}));
  REQUIRE(producer->flush(20000).ok());
  poll_until(60);
  std::vector<int64_t> want(60);
  for (int i = 0; i < 60; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(offsets == want);
  auto idle = consumer->poll(200);
  REQUIRE(idle.ok());
  CHECK(idle->empty());
}

TEST_CASE("UNKNOWN_TOPIC_OR_PARTITION just after creation is retried", "[client][producer][failover]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  fake_broker broker(state);
  auto producer = make_producer(producer_config_for(broker.address()));
  state->inject(produce_fault::unknown_topic);
  state->inject(produce_fault::unknown_topic);
  auto f = producer->send({.topic = "t", .value = "v0"});
  auto r = get(f);
  REQUIRE(r.ok());
  CHECK(r.offset == 0);
  CHECK(values(*state, tp0) == expected_values(0, 1));
  check_sequences(*state, 1);
}

TEST_CASE("a stream idling at a cut-off former leader moves after a metadata refresh",
          "[client][consumer][failover]") {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 1);
  state->set_fetch_stream(true);
  state->set_silent_former_leader(true);
  fake_broker b1(state, 0, 1);
  fake_broker b2(state, 0, 2);
  auto producer = make_producer(producer_config_for(b1.address() + "," + b2.address()));
  // The periodic refresh is what tells it: no error ever comes.
  auto consumer = make_consumer(b1.address() + "," + b2.address(), 300);
  REQUIRE(consumer->assign({tp0}).ok());
  std::vector<int64_t> offsets;
  auto poll_until = [&](size_t want) {
    for (int i = 0; i < 100 && offsets.size() < want; ++i) {
      auto polled = consumer->poll(50);
      REQUIRE(polled.ok());
      for (const auto& rec : *polled) offsets.push_back(rec.offset);
    }
  };
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(producer->send({.topic = "t", .value = "v" + std::to_string(i)}));
  REQUIRE(producer->flush(20000).ok());
  poll_until(20);
  REQUIRE(offsets.size() == 20);
  const int fetches_before = state->fetches_at(2);
  state->move_leader(tp0, 2);
  for (int i = 20; i < 40; ++i) futures.push_back(producer->send({.topic = "t", .value = "v" + std::to_string(i)}));
  REQUIRE(producer->flush(20000).ok());
  poll_until(40);
  std::vector<int64_t> want(40);
  for (int i = 0; i < 40; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(offsets == want);
  CHECK(state->fetches_at(2) > fetches_before);
}
