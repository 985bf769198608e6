// libkappa against a real kappad process on 127.0.0.1 (a free port, a temp
// data dir). Skipped, with a WARN, when kappad has not been built.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "kappa/producer.h"
#include "tests/client/kappad_process.h"

namespace {

using kappad_process = kappa_test::kappad_child;
std::string kappad_path() { return kappa_test::kappad_binary(); }

// True when kappad is built; otherwise WARNs, so a skipped test says so.
bool kappad_built() {
  if (std::filesystem::exists(kappad_path())) return true;
  WARN("kappad not built at " << kappad_path() << ": skipping the libkappa end-to-end test");
  return false;
}

// Short backoffs so the tests stay quick; the request timeout covers startup.
kappa::client_config client_config_for(const kappad_process& kappad) {
  kappa::client_config cc;
  cc.bootstrap = kappad.address();
  cc.request_timeout_ms = 10000;
  cc.retry_backoff_min_ms = 50;
  cc.retry_backoff_max_ms = 500;
  return cc;
}

}  // namespace

TEST_CASE("end to end against kappad: create, produce, consume, seek, offsets", "[client][e2e]") {
  if (!kappad_built()) return;
  kappad_process kappad(kappad_path());
  INFO("kappad log: " << kappad.log());
  const kappa::client_config cc = client_config_for(kappad);
  auto admin = kappa::admin::create(cc);
  REQUIRE(admin.ok());

  // The admin call retries while kappad starts up (bounded by the timeout).
  auto created = admin.value()->create_topics({{.name = "e2e", .partitions = 3}});
  REQUIRE(created.ok());
  REQUIRE(created->size() == 1);
  REQUIRE((*created)[0].status.ok());
  auto cluster = admin.value()->describe_cluster();
  REQUIRE(cluster.ok());
  CHECK_FALSE(cluster->brokers.empty());

  kappa::producer_config pc;
  pc.client = cc;
  pc.linger_ms = 5;
  pc.compression = kappa::compression_codec::lz4;
  auto producer = kappa::producer::create(pc);
  REQUIRE(producer.ok());
  constexpr int kRecords = 3000;
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < kRecords; ++i) {
    kappa::producer_record r{.topic = "e2e", .value = "value-" + std::to_string(i)};
    if (i % 2 == 0) r.key = "k" + std::to_string(i % 17);
    r.headers.push_back({"i", std::to_string(i)});
    futures.push_back(producer.value()->send(std::move(r)));
  }
  REQUIRE(producer.value()->flush(30000).ok());
  std::map<int32_t, int64_t> per_partition;
  std::map<int32_t, std::set<int64_t>> acked;
  for (auto& f : futures) {
    REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok());
    per_partition[r.partition] = std::max(per_partition[r.partition], r.offset + 1);
    CHECK(acked[r.partition].insert(r.offset).second);
  }
  // Offsets dense from a partition's first record: no duplicates, no gaps
  // (a replicated log may start with a leader's no-op control batch).
  for (auto& [p, set] : acked) {
    INFO("partition " << p);
    CHECK(*set.rbegin() - *set.begin() + 1 == static_cast<int64_t>(set.size()));
  }
  REQUIRE(producer.value()->close(10000).ok());

  kappa::consumer_config kc;
  kc.client = cc;
  kc.fetch_max_wait_ms = 100;
  kc.auto_offset_reset = kappa::offset_reset::earliest;
  auto consumer = kappa::consumer::create(kc);
  REQUIRE(consumer.ok());
  std::vector<kappa::topic_partition> tps{{"e2e", 0}, {"e2e", 1}, {"e2e", 2}};
  REQUIRE(consumer.value()->assign(tps).ok());
  std::set<std::string> seen;
  std::map<int32_t, int64_t> last_offset;
  for (int i = 0; i < 200 && seen.size() < kRecords; ++i) {  // at most ~40 s
    auto polled = consumer.value()->poll(200);
    REQUIRE(polled.ok());
    for (const auto& r : *polled) {
      CHECK(seen.insert(r.value.value_or("")).second);
      auto it = last_offset.find(r.partition);
      if (it != last_offset.end()) CHECK(r.offset == it->second + 1);
      last_offset[r.partition] = r.offset;
    }
  }
  CHECK(seen.size() == static_cast<size_t>(kRecords));

  // Seek back and read one partition again from an offset.
  REQUIRE(consumer.value()->seek({"e2e", 0}, 1).ok());
  std::vector<kappa::consumed_record> again;
  for (int i = 0; i < 50 && again.empty(); ++i) {
    auto polled = consumer.value()->poll(200);
    REQUIRE(polled.ok());
    for (auto& r : *polled) {
      if (r.partition == 0) again.push_back(r);
    }
  }
  REQUIRE_FALSE(again.empty());
  CHECK(again.front().offset == 1);

  auto listed = admin.value()->list_offsets({{{"e2e", 0}, kappa::kEarliestOffsetSpec}, {{"e2e", 0}, kappa::kLatestOffsetSpec}});
  REQUIRE(listed.ok());
  CHECK((*listed)[0].offset == 0);
  CHECK((*listed)[1].offset == per_partition[0]);
  auto described = admin.value()->describe_topics({"e2e"});
  REQUIRE(described.ok());
  REQUIRE(described->size() == 1);
  CHECK((*described)[0].partitions.size() == 3);
}

TEST_CASE("end to end against kappad: admin configs, delete records, delete topics", "[client][e2e]") {
  if (!kappad_built()) return;
  kappad_process kappad(kappad_path());
  INFO("kappad log: " << kappad.log());
  const kappa::client_config cc = client_config_for(kappad);
  auto made = kappa::admin::create(cc);
  REQUIRE(made.ok());
  auto& admin = *made.value();
  auto created = admin.create_topics({{.name = "cfg", .partitions = 1, .configs = {{"retention.ms", "3600000"}}}});
  REQUIRE(created.ok());
  REQUIRE((*created)[0].status.ok());
  auto again = admin.create_topics({{.name = "cfg", .partitions = 1}});
  REQUIRE(again.ok());
  CHECK((*again)[0].status.code() == kappa::client_errc::topic_already_exists);
  auto bad = admin.create_topics({{.name = "bad/name", .partitions = 1}});
  REQUIRE(bad.ok());
  CHECK((*bad)[0].status.code() == kappa::client_errc::invalid_topic);

  auto configs = admin.describe_configs({"cfg"});
  REQUIRE(configs.ok());
  REQUIRE(configs->size() == 1);
  auto find = [](const kappa::topic_configs& tc, const std::string& name) -> const kappa::config_entry* {
    for (const auto& e : tc.entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  };
  const auto* retention = find((*configs)[0], "retention.ms");
  REQUIRE(retention != nullptr);
  CHECK(retention->value == "3600000");
  CHECK_FALSE(retention->is_default);

  auto altered = admin.alter_configs({{.topic = "cfg", .set = {{"retention.ms", "7200000"}}}});
  REQUIRE(altered.ok());
  REQUIRE((*altered)[0].status.ok());
  configs = admin.describe_configs({"cfg"});
  REQUIRE(configs.ok());
  REQUIRE(find((*configs)[0], "retention.ms") != nullptr);
  CHECK(find((*configs)[0], "retention.ms")->value == "7200000");

  // Ten records, then delete the first four.
  kappa::producer_config pc;
  pc.client = cc;
  auto producer = kappa::producer::create(pc);
  REQUIRE(producer.ok());
  for (int i = 0; i < 10; ++i) producer.value()->send({.topic = "cfg", .value = std::to_string(i)}, nullptr);
  REQUIRE(producer.value()->flush(30000).ok());
  auto deleted = admin.delete_records({{{"cfg", 0}, 4}});
  REQUIRE(deleted.ok());
  REQUIRE(deleted->size() == 1);
  REQUIRE((*deleted)[0].status.ok());
  CHECK((*deleted)[0].low_watermark == 4);
  auto earliest = admin.list_offsets({{{"cfg", 0}, kappa::kEarliestOffsetSpec}});
  REQUIRE(earliest.ok());
  CHECK((*earliest)[0].offset == 4);

  auto removed = admin.delete_topics({"cfg"});
  REQUIRE(removed.ok());
  REQUIRE((*removed)[0].status.ok());
  auto described = admin.describe_topics({"cfg"});
  REQUIRE(described.ok());
  REQUIRE(described->size() == 1);
  CHECK((*described)[0].status.code() == kappa::client_errc::unknown_topic_or_partition);
}

TEST_CASE("end to end against kappad: idempotent produce to many partitions lands every record once",
          "[client][e2e][idempotence]") {
  // Small batches and 5 in flight per partition: one sender round drains
  // several batches of each of the 6 partitions, the shape in which batches
  // of a partition once left out of order (OUT_OF_ORDER_SEQUENCE_NUMBER).
  if (!kappad_built()) return;
  kappad_process kappad(kappad_path());
  INFO("kappad log: " << kappad.log());
  const kappa::client_config cc = client_config_for(kappad);
  auto admin = kappa::admin::create(cc);
  REQUIRE(admin.ok());
  constexpr int32_t kPartitions = 6;
  auto created = admin.value()->create_topics(
      {{.name = "idem", .partitions = kPartitions, .configs = {{"flush.policy", "interval"}}}});
  REQUIRE(created.ok());
  REQUIRE((*created)[0].status.ok());

  kappa::producer_config pc;
  pc.client = cc;
  pc.required_acks = kappa::acks::leader;
  pc.idempotence = true;
  pc.linger_ms = 5;
  pc.batch_bytes = 2048;  // ~10 records a batch: many batches per partition
  pc.max_in_flight_per_partition = 5;
  auto producer = kappa::producer::create(pc);
  REQUIRE(producer.ok());
  constexpr int kRecords = 20000;
  std::mutex mu;
  std::vector<kappa::delivery_report> reports(kRecords);
  std::atomic<int> reported{0};
  for (int i = 0; i < kRecords; ++i) {
    kappa::producer_record r{.topic = "idem", .value = "v" + std::to_string(i) + std::string(150, 'x')};
    if (i % 3 != 0) r.key = "key-" + std::to_string(i % 101);  // a third null-key (sticky)
    producer.value()->send(std::move(r), [&, i](const kappa::delivery_report& d) {
      std::lock_guard lock(mu);
      reports[i] = d;
      reported.fetch_add(1);
    });
  }
  REQUIRE(producer.value()->flush(60000).ok());
  REQUIRE(reported.load() == kRecords);
  std::map<int32_t, std::set<int64_t>> offsets;
  std::map<std::string, std::pair<int32_t, int64_t>> last_of_key;
  for (int i = 0; i < kRecords; ++i) {
    const auto& d = reports[i];
    INFO("record " << i << ": " << d.status.message());
    REQUIRE(d.ok());
    CHECK(offsets[d.partition].insert(d.offset).second);  // no two records at one offset
    if (i % 3 != 0) {
      // One key, one partition, increasing offsets: send order kept.
      const std::string key = "key-" + std::to_string(i % 101);
      auto it = last_of_key.find(key);
      if (it != last_of_key.end()) {
        CHECK(it->second.first == d.partition);
        CHECK(it->second.second < d.offset);
      }
      last_of_key[key] = {d.partition, d.offset};
    }
  }
  CHECK(offsets.size() == static_cast<size_t>(kPartitions));  // the sticky and keyed spread
  REQUIRE(producer.value()->close(10000).ok());

  // The log holds exactly these records: dense offsets per partition (after
  // any leading control batch, e.g. a new Raft leader's no-op), and latest
  // offset == one past the last record acknowledged there.
  std::vector<std::pair<kappa::topic_partition, int64_t>> specs;
  for (int32_t p = 0; p < kPartitions; ++p) specs.push_back({{"idem", p}, kappa::kLatestOffsetSpec});
  auto latest = admin.value()->list_offsets(specs);
  REQUIRE(latest.ok());
  int64_t total = 0;
  for (const auto& l : *latest) {
    const auto& got = offsets[l.tp.partition];
    INFO("partition " << l.tp.partition);
    REQUIRE_FALSE(got.empty());
    CHECK(l.offset == *got.rbegin() + 1);
    CHECK(*got.rbegin() - *got.begin() + 1 == static_cast<int64_t>(got.size()));
    total += static_cast<int64_t>(got.size());
  }
  CHECK(total == kRecords);

  // Read back: every value exactly once, where its report said.
  kappa::consumer_config kc;
  kc.client = cc;
  kc.fetch_max_wait_ms = 100;
  kc.auto_offset_reset = kappa::offset_reset::earliest;
  auto consumer = kappa::consumer::create(kc);
  REQUIRE(consumer.ok());
  std::vector<kappa::topic_partition> tps;
  for (int32_t p = 0; p < kPartitions; ++p) tps.push_back({"idem", p});
  REQUIRE(consumer.value()->assign(tps).ok());
  std::map<std::string, int> seen;
  size_t consumed = 0;
  for (int i = 0; i < 300 && consumed < static_cast<size_t>(kRecords); ++i) {  // at most ~60 s
    auto polled = consumer.value()->poll(200);
    REQUIRE(polled.ok());
    for (const auto& r : *polled) {
      ++consumed;
      ++seen[r.value.value_or("").substr(0, r.value.value_or("").find('x'))];
    }
  }
  CHECK(consumed == static_cast<size_t>(kRecords));
  REQUIRE(seen.size() == static_cast<size_t>(kRecords));
  for (const auto& [v, n] : seen) CHECK(n == 1);
}
