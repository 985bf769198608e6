// Consumer groups against a real kappad (its coordinator on
// __consumer_offsets): two members share a topic's 4 partitions, never own
// one at the same time, and when one closes the other takes them all; with
// commit-after-processing (commit in on_revoked) no record is skipped and
// none is read twice; commit/committed round trip; a new member resumes at
// the committed offsets. Skipped, with a WARN, when kappad is not built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "kappa/producer.h"
#include "tests/client/kappad_process.h"

using kappa::topic_partition;

namespace {

bool kappad_built() {
  if (std::filesystem::exists(kappa_test::kappad_binary())) return true;
  WARN("kappad not built at " << kappa_test::kappad_binary()
                              << ": skipping the consumer group end-to-end test");
  return false;
}

kappa::client_config client_config_for(const kappa_test::kappad_child& kappad) {
  kappa::client_config cc;
  cc.bootstrap = kappad.address();
  cc.request_timeout_ms = 15000;  // covers startup and __consumer_offsets creation
  cc.retry_backoff_min_ms = 50;
  cc.retry_backoff_max_ms = 500;
  return cc;
}

kappa::consumer_config member_config(const kappa::client_config& cc) {
  kappa::consumer_config c;
  c.client = cc;
  c.fetch_max_wait_ms = 100;
  c.auto_offset_reset = kappa::offset_reset::earliest;
  c.enable_auto_commit = false;  // the test commits after processing
  c.session_timeout_ms = 10000;
  c.rebalance_timeout_ms = 10000;
  return c;
}

std::unique_ptr<kappa::consumer> make_consumer(const kappa::consumer_config& c) {
  auto made = kappa::consumer::create(c);
  REQUIRE(made.ok());
  return std::move(made).value();
}

// Creates `topic` with 4 partitions and produces `n` records; returns the
// data offsets per partition.
std::map<int32_t, std::set<int64_t>> produce(const kappa::client_config& cc,
                                             const std::string& topic, int n) {
  auto admin = kappa::admin::create(cc);
  REQUIRE(admin.ok());
  auto created = admin.value()->create_topics({{.name = topic, .partitions = 4}});
  REQUIRE(created.ok());
  REQUIRE((*created)[0].status.ok());
  kappa::producer_config pc;
  pc.client = cc;
  pc.linger_ms = 5;
  auto producer = kappa::producer::create(pc);
  REQUIRE(producer.ok());
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < n; ++i) {
    futures.push_back(producer.value()->send(
        {.topic = topic, .key = "k" + std::to_string(i), .value = std::to_string(i)}));
  }
  REQUIRE(producer.value()->flush(30000).ok());
  std::map<int32_t, std::set<int64_t>> offsets;
  for (auto& f : futures) {
    REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok());
    offsets[r.partition].insert(r.offset);
  }
  REQUIRE(producer.value()->close(10000).ok());
  return offsets;
}

std::set<topic_partition> as_set(const std::vector<topic_partition>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE(
    "group e2e: two members share 4 partitions, one closes, the other takes all; nothing skipped "
    "or repeated",
    "[client][group][e2e]") {
  if (!kappad_built()) return;
  kappa_test::kappad_child kappad(kappa_test::kappad_binary());
  INFO("kappad log: " << kappad.log());
  const auto cc = client_config_for(kappad);
  constexpr int kRecords = 2000;
  const auto produced = produce(cc, "shared", kRecords);

  // (partition, offset) -> times processed, over both members.
  std::map<std::pair<int32_t, int64_t>, int> processed;
  auto process = [&](const std::vector<kappa::consumed_record>& records) {
    for (const auto& r : records) ++processed[{r.partition, r.offset}];
  };
  // Commit after processing: everything poll() returned was processed
  // before the next poll, so the positions are what was processed.
  kappa::rebalance_listener listener;
  listener.on_revoked = [](kappa::consumer& self, const std::vector<topic_partition>&) {
    CHECK(self.commit_sync().ok());
  };
  auto a = make_consumer(member_config(cc));
  auto b = make_consumer(member_config(cc));
  REQUIRE(a->subscribe({"shared"}, "ge2e", listener).ok());

  // a alone takes all four and reads some.
  const auto end_a = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((a->assignment().size() < 4 || processed.size() < 200) &&
         std::chrono::steady_clock::now() < end_a) {
    auto polled = a->poll(100);
    REQUIRE(polled.ok());
    process(*polled);
  }
  REQUIRE(a->assignment().size() == 4);
  REQUIRE(a->commit_sync().ok());

  // b joins: two partitions move, and at no observed moment are they owned twice.
  REQUIRE(b->subscribe({"shared"}, "ge2e", listener).ok());
  const auto end_b = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((a->assignment().size() != 2 || b->assignment().size() != 2) &&
         std::chrono::steady_clock::now() < end_b) {
    auto pa = a->poll(50);
    REQUIRE(pa.ok());
    process(*pa);
    auto pb = b->poll(50);
    REQUIRE(pb.ok());
    process(*pb);
    std::set<topic_partition> both;
    const auto sa = as_set(a->assignment()), sb = as_set(b->assignment());
    std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(),
                          std::inserter(both, both.end()));
    CHECK(both.empty());
  }
  CHECK(a->assignment().size() == 2);
  CHECK(b->assignment().size() == 2);
  CHECK(a->member_id() != b->member_id());

  // Both read on for a while, then a closes (its on_revoked commits).
  for (int i = 0; i < 10; ++i) {
    auto pa = a->poll(50);
    REQUIRE(pa.ok());
    process(*pa);
    auto pb = b->poll(50);
    REQUIRE(pb.ok());
    process(*pb);
  }
  a->close();
  const auto end_all = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((b->assignment().size() < 4 || processed.size() < static_cast<size_t>(kRecords)) &&
         std::chrono::steady_clock::now() < end_all) {
    auto pb = b->poll(100);
    REQUIRE(pb.ok());
    process(*pb);
  }
  CHECK(b->assignment().size() == 4);

  // Nothing skipped, nothing twice.
  size_t expected = 0, twice = 0;
  for (const auto& [p, offsets] : produced) {
    for (int64_t o : offsets) {
      ++expected;
      auto it = processed.find({p, o});
      CHECK(it != processed.end());
      if (it != processed.end() && it->second > 1) ++twice;
    }
  }
  CHECK(expected == static_cast<size_t>(kRecords));
  CHECK(processed.size() == expected);
  CHECK(twice == 0);

  // commit/committed round trip: the committed offsets are b's positions.
  REQUIRE(b->commit_sync().ok());
  std::vector<topic_partition> all;
  for (int p = 0; p < 4; ++p) all.push_back({"shared", p});
  auto committed = b->committed(all);
  REQUIRE(committed.ok());
  for (const auto& tp : all) {
    auto position = b->position(tp);
    REQUIRE(position.ok());
    CHECK(committed->at(tp).offset == *position);
    CHECK(*position == *produced.at(tp.partition).rbegin() + 1);
  }
  b->close();
}

TEST_CASE("group e2e: explicit commits are where a new member resumes", "[client][group][e2e]") {
  if (!kappad_built()) return;
  kappa_test::kappad_child kappad(kappa_test::kappad_binary());
  INFO("kappad log: " << kappad.log());
  const auto cc = client_config_for(kappad);
  const auto produced = produce(cc, "resume", 400);
  std::map<topic_partition, int64_t> resume_at;
  for (const auto& [p, offsets] : produced) {
    // The 5th data record of each partition (the log may open with a control batch).
    resume_at[{"resume", p}] =
        *std::next(offsets.begin(), std::min<long>(4, static_cast<long>(offsets.size()) - 1));
  }
  {
    auto c = make_consumer(member_config(cc));
    REQUIRE(c->subscribe({"resume"}, "gresume").ok());
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (c->assignment().size() < 4 && std::chrono::steady_clock::now() < end)
      REQUIRE(c->poll(100).ok());
    REQUIRE(c->assignment().size() == 4);
    REQUIRE(c->commit_sync(resume_at).ok());
    auto committed = c->committed(c->assignment());
    REQUIRE(committed.ok());
    for (const auto& [tp, offset] : resume_at) {
      CHECK(committed->at(tp).offset == offset);
      CHECK(committed->at(tp).commit_timestamp_ms > 0);
    }
    c->close();
  }
  auto d = make_consumer(member_config(cc));
  std::map<topic_partition, int64_t> first;
  REQUIRE(d->subscribe({"resume"}, "gresume").ok());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (first.size() < 4 && std::chrono::steady_clock::now() < end) {
    auto polled = d->poll(100);
    REQUIRE(polled.ok());
    for (const auto& r : *polled) first.try_emplace({r.topic, r.partition}, r.offset);
  }
  CHECK(first == resume_at);
  d->close();
}
