// The consumer against the in-process fake broker: seeks, control batches,
// out-of-range handling per auto_offset_reset, pause/resume; and
// admin::list_offsets (which shares the ListOffsets routing).
#include <catch2/catch.hpp>

#include <chrono>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "tests/client/fake_broker.h"

using kappa::test::fake_broker;
using kappa::test::fake_broker_state;

namespace {

kappa::byte_buffer batch(int count, bool control, int64_t first_value, int64_t ts) {
  kappa::format::batch_options options;
  options.control = control;
  std::vector<kappa::format::record> records;
  for (int i = 0; i < count; ++i) {
    kappa::format::record r;
    r.value = "v" + std::to_string(first_value + i);
    r.timestamp = ts + i;
    records.push_back(std::move(r));
  }
  auto built = kappa::format::build_batch(options, records);
  REQUIRE(built.ok());
  return std::move(built).value();
}

// Offsets 0..4 data (ts 1000..1004), 5 a control batch, 6..9 data (ts 1006..1009).
std::shared_ptr<fake_broker_state> make_state() {
  auto state = std::make_shared<fake_broker_state>();
  state->create_topic("t", 2);
  state->append_raw({"t", 0}, batch(5, false, 0, 1000));
  state->append_raw({"t", 0}, batch(1, true, 5, 1005));
  state->append_raw({"t", 0}, batch(4, false, 6, 1006));
  return state;
}

kappa::consumer_config config_for(const fake_broker& broker, kappa::offset_reset reset) {
  kappa::consumer_config c;
  c.client.bootstrap = broker.address();
  c.client.retry_backoff_min_ms = 20;
  c.client.retry_backoff_max_ms = 200;
  c.client.request_timeout_ms = 5000;
  c.fetch_max_wait_ms = 50;
  c.auto_offset_reset = reset;
  return c;
}

std::unique_ptr<kappa::consumer> make_consumer(const kappa::consumer_config& c) {
  auto made = kappa::consumer::create(c);
  REQUIRE(made.ok());
  return std::move(made).value();
}

// Polls (at most ~5 s) until `want` records came; returns their offsets.
std::vector<int64_t> poll_offsets(kappa::consumer& c, size_t want) {
  std::vector<int64_t> offsets;
  for (int i = 0; i < 50 && offsets.size() < want; ++i) {
    auto polled = c.poll(100);
    REQUIRE(polled.ok());
    for (const auto& r : *polled) offsets.push_back(r.offset);
  }
  return offsets;
}

const kappa::topic_partition tp0{"t", 0};

}  // namespace

TEST_CASE("poll skips control batches; positions follow", "[client][consumer]") {
  auto state = make_state();
  fake_broker broker(state);
  auto c = make_consumer(config_for(broker, kappa::offset_reset::latest));
  REQUIRE(c->assign({tp0}).ok());
  REQUIRE(c->seek_to_beginning({tp0}).ok());
  CHECK(c->position(tp0).value() == 0);
  CHECK(poll_offsets(*c, 9) == std::vector<int64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9});
  CHECK(c->position(tp0).value() == 10);

  // New records arrive while the consumer is tailing.
  state->append_raw(tp0, batch(2, false, 10, 2000));
  CHECK(poll_offsets(*c, 2) == std::vector<int64_t>{10, 11});
}

TEST_CASE("seek into the middle of a batch skips the records below the position", "[client][consumer]") {
  auto state = make_state();
  fake_broker broker(state);
  auto c = make_consumer(config_for(broker, kappa::offset_reset::latest));
  REQUIRE(c->assign({tp0}).ok());
  REQUIRE(c->seek(tp0, 3).ok());
  CHECK(poll_offsets(*c, 6) == std::vector<int64_t>{3, 4, 6, 7, 8, 9});

  SECTION("by timestamp") {
    REQUIRE(c->seek_to_timestamp({tp0}, 1007).ok());
    CHECK(c->position(tp0).value() == 7);
    CHECK(poll_offsets(*c, 3) == std::vector<int64_t>{7, 8, 9});
  }
  SECTION("to the end") {
    REQUIRE(c->seek_to_end({tp0}).ok());
    CHECK(c->position(tp0).value() == 10);
    auto polled = c->poll(100);
    REQUIRE(polled.ok());
    CHECK(polled->empty());
  }
}

TEST_CASE("without a seek, auto_offset_reset picks the start", "[client][consumer]") {
  auto state = make_state();
  fake_broker broker(state);
  SECTION("latest") {
    auto c = make_consumer(config_for(broker, kappa::offset_reset::latest));
    REQUIRE(c->assign({tp0}).ok());
    CHECK(c->position(tp0).value() == 10);
  }
  SECTION("earliest") {
    auto c = make_consumer(config_for(broker, kappa::offset_reset::earliest));
    REQUIRE(c->assign({tp0}).ok());
    CHECK(poll_offsets(*c, 9).size() == 9);
  }
  SECTION("none reports no_offset") {
    auto c = make_consumer(config_for(broker, kappa::offset_reset::none));
    REQUIRE(c->assign({tp0}).ok());
    auto polled = c->poll(2000);
    REQUIRE_FALSE(polled.ok());
    CHECK(polled.status().code() == kappa::client_errc::no_offset);
  }
}

TEST_CASE("OFFSET_OUT_OF_RANGE: reported under none, reset under earliest", "[client][consumer]") {
  auto state = make_state();
  fake_broker broker(state);
  SECTION("none") {
    auto c = make_consumer(config_for(broker, kappa::offset_reset::none));
    REQUIRE(c->assign({tp0}).ok());
    REQUIRE(c->seek(tp0, 100).ok());
    auto polled = c->poll(2000);
    REQUIRE_FALSE(polled.ok());
    CHECK(polled.status().code() == kappa::client_errc::offset_out_of_range);
    // The partition waits for a seek; then it reads again.
    REQUIRE(c->seek(tp0, 8).ok());
    CHECK(poll_offsets(*c, 2) == std::vector<int64_t>{8, 9});
  }
  SECTION("earliest") {
    auto c = make_consumer(config_for(broker, kappa::offset_reset::earliest));
    REQUIRE(c->assign({tp0}).ok());
    REQUIRE(c->seek(tp0, 100).ok());
    CHECK(poll_offsets(*c, 9).front() == 0);
  }
}

TEST_CASE("paused partitions return nothing until resumed", "[client][consumer]") {
  auto state = make_state();
  state->append_raw({"t", 1}, batch(3, false, 0, 1000));
  fake_broker broker(state);
  auto c = make_consumer(config_for(broker, kappa::offset_reset::earliest));
  REQUIRE(c->assign({tp0, {"t", 1}}).ok());
  REQUIRE(c->pause({tp0}).ok());
  CHECK(c->paused() == std::vector<kappa::topic_partition>{tp0});
  std::vector<kappa::consumed_record> got;
  for (int i = 0; i < 10 && got.size() < 3; ++i) {
    auto polled = c->poll(100);
    REQUIRE(polled.ok());
    got.insert(got.end(), polled->begin(), polled->end());
  }
  REQUIRE(got.size() == 3);
  for (const auto& r : got) CHECK(r.partition == 1);
  auto idle = c->poll(200);
  REQUIRE(idle.ok());
  CHECK(idle->empty());
  REQUIRE(c->resume({tp0}).ok());
  CHECK(poll_offsets(*c, 9).size() == 9);
}

TEST_CASE("admin list_offsets: earliest, latest, by time, unknown partition", "[client][admin]") {
  auto state = make_state();
  fake_broker broker(state);
  kappa::client_config config;
  config.bootstrap = broker.address();
  config.request_timeout_ms = 1000;
  config.retry_backoff_min_ms = 20;
  auto admin = kappa::admin::create(config);
  REQUIRE(admin.ok());
  auto listed = admin.value()->list_offsets({{tp0, kappa::kEarliestOffsetSpec},
                                             {tp0, kappa::kLatestOffsetSpec},
                                             {tp0, 1003},
                                             {{"t", 7}, kappa::kLatestOffsetSpec}});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 4);
  CHECK((*listed)[0].offset == 0);
  CHECK((*listed)[1].offset == 10);
  CHECK((*listed)[2].offset == 3);
  CHECK((*listed)[2].timestamp_ms == 1003);
  CHECK((*listed)[3].status.code() == kappa::client_errc::unknown_topic_or_partition);
}

TEST_CASE("a broker restart while consuming: the consumer reconnects and continues", "[client][consumer]") {
  auto state = make_state();
  auto broker = std::make_unique<fake_broker>(state);
  const int port = broker->port();
  auto config = config_for(*broker, kappa::offset_reset::earliest);
  config.client.reconnect_backoff_max_ms = 200;
  auto c = make_consumer(config);
  REQUIRE(c->assign({tp0}).ok());
  CHECK(poll_offsets(*c, 9).size() == 9);
  broker.reset();
  auto idle = c->poll(300);  // fetches fail meanwhile; poll just returns nothing
  REQUIRE(idle.ok());
  CHECK(idle->empty());
  state->append_raw(tp0, batch(3, false, 10, 3000));
  broker = std::make_unique<fake_broker>(state, port);
  CHECK(poll_offsets(*c, 3) == std::vector<int64_t>{10, 11, 12});
}

TEST_CASE("closing a consumer whose broker is gone is bounded", "[client][consumer]") {
  auto state = make_state();
  auto broker = std::make_unique<fake_broker>(state);
  auto c = make_consumer(config_for(*broker, kappa::offset_reset::earliest));
  REQUIRE(c->assign({tp0}).ok());
  CHECK(poll_offsets(*c, 9).size() == 9);
  broker.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto started = std::chrono::steady_clock::now();
  c->close();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  auto polled = c->poll(10);
  REQUIRE_FALSE(polled.ok());
  CHECK(polled.status().code() == kappa::client_errc::closed);
}
