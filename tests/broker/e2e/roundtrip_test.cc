// Real kappad: produce/fetch round trips in every acks mode, offsets,
// metadata, long-poll, tailing, restart, clean shutdown, data dir lock.
// Every partition is Raft-replicated: each leader term starts with a
// one-offset control batch, so expected offsets come from the broker's own
// answers (first produce, ListOffsets), never from 0.
#include "kappad_fixture.h"

using namespace kappa::e2e;

TEST_CASE("produce and fetch round trip with acks none, leader and all", "[e2e]") {
  kappad k;
  k.start();
  create_topic(k, "always", 2);
  create_topic(k, "interval", 1, {{"flush.policy", "interval"}, {"flush.ms", "20"}});
  int64_t always_base = -1;
  for (const char* topic : {"always", "interval"}) {
    INFO(topic);
    // A produce lands at the high watermark (past the term's control batch).
    const int64_t end = wait_for_first_term(k, topic, 0);
    auto r1 = produce(k, topic, 0, make_batch({"a", "b"}), v1::ACKS_LEADER);
    CHECK(r1.error_code() == v1::NONE);
    const int64_t base = r1.base_offset();
    CHECK(base == end);
    if (std::string(topic) == "always") always_base = base;
    auto r2 = produce(k, topic, 0, make_batch({"c"}), v1::ACKS_ALL);
    CHECK(r2.base_offset() == base + 2);
    auto r3 = produce(k, topic, 0, make_batch({"d"}), v1::ACKS_NONE);
    CHECK(r3.error_code() == v1::NONE);
    auto r4 = produce(k, topic, 0, make_batch({"e"}), v1::ACKS_UNSPECIFIED);  // = all
    CHECK(r4.base_offset() == base + 4);
    auto recs = fetch_all(k, topic, 0);
    REQUIRE(recs.size() == 5);
    for (int i = 0; i < 5; ++i) {
      CHECK(recs[i].offset == base + i);
      CHECK(recs[i].value == std::string(1, char('a' + i)));
    }
  }
  // Fetch from the middle: the batch containing the offset, records below skipped.
  auto mid = fetch(k, "always", 0, always_base + 1);
  auto mid_recs = decode(mid.records(), always_base + 1);
  REQUIRE_FALSE(mid_recs.empty());
  CHECK(mid_recs.front().value == "b");
  CHECK(mid.high_watermark() == always_base + 5);
  CHECK(k.stop(SIGTERM) == 0);
}

TEST_CASE("list offsets, metadata, describe", "[e2e]") {
  kappad k({"--node-id", "4"});
  k.start();
  create_topic(k, "t", 3);
  // A fresh partition holds only its leader's control batch: the high
  // watermark is past it, and a fetch from the start returns no data.
  const int64_t end = wait_for_first_term(k, "t", 1);
  {
    auto f = fetch(k, "t", 1, 0);
    REQUIRE(f.error_code() == v1::NONE);
    auto d = decode_batches(f.records(), 0);
    CHECK(d.records.empty());
    CHECK(d.control_batches >= 1);
    CHECK(d.next_offset == end);
  }
  // The control batch is stamped when the term starts; the data records
  // below are stamped after `before`, so a lookup at `before` finds them.
  std::this_thread::sleep_for(5ms);
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t base = produce(k, "t", 1, make_batch({"x", "y"})).base_offset();
  REQUIRE(base == end);
  grpc::ClientContext ctx;
  v1::ListOffsetsRequest req;
  auto* t = req.add_topics();
  t->set_topic("t");
  for (int64_t ts : {kEarliest, kLatest, before, before + 3600000}) {
    auto* p = t->add_partitions();
    p->set_partition(1);
    p->set_timestamp(ts);
  }
  v1::ListOffsetsResponse resp;
  REQUIRE(k.broker->ListOffsets(with_deadline(ctx), req, &resp).ok());
  const auto& ps = resp.topics(0).partitions();
  CHECK(ps[0].offset() == 0);  // nothing deleted yet: the log starts at 0
  CHECK(ps[1].offset() == base + 2);
  CHECK(ps[2].offset() == base);
  CHECK(ps[2].timestamp() >= before);
  CHECK(ps[3].offset() == base + 2);  // past every record: the high watermark
  CHECK(ps[3].timestamp() == -1);

  grpc::ClientContext c2;
  v1::MetadataResponse md;
  REQUIRE(k.broker->Metadata(with_deadline(c2), {}, &md).ok());
  CHECK(md.controller_id() == 4);
  REQUIRE(md.brokers_size() == 1);
  CHECK(md.brokers(0).address() == k.address);
  REQUIRE(md.topics_size() == 1);
  CHECK(md.topics(0).partitions_size() == 3);
  CHECK(md.topics(0).partitions(2).leader_id() == 4);

  grpc::ClientContext c3;
  v1::DescribeTopicsResponse dt;
  REQUIRE(k.admin->DescribeTopics(with_deadline(c3), {}, &dt).ok());
  REQUIRE(dt.topics_size() == 1);
  CHECK(dt.topics(0).partitions(1).high_watermark() == base + 2);
  CHECK(dt.topics(0).partitions(1).log_end_offset() == base + 2);

  grpc::ClientContext c4;
  v1::AlterConfigsRequest ar;
  auto* ch = ar.add_changes();
  ch->set_topic("t");
  (*ch->mutable_set())["retention.ms"] = "123456";
  v1::AlterConfigsResponse aresp;
  REQUIRE(k.admin->AlterConfigs(with_deadline(c4), ar, &aresp).ok());
  CHECK(aresp.results(0).error_code() == v1::NONE);
  grpc::ClientContext c5;
  v1::DescribeConfigsRequest dr;
  dr.add_topics("t");
  v1::DescribeConfigsResponse dresp;
  REQUIRE(k.admin->DescribeConfigs(with_deadline(c5), dr, &dresp).ok());
  bool seen = false;
  for (const auto& e : dresp.results(0).entries()) {
    if (e.name() == "retention.ms") {
      seen = true;
      CHECK(e.value() == "123456");
      CHECK_FALSE(e.is_default());
    }
  }
  CHECK(seen);

  grpc::ClientContext c6;
  v1::DeleteRecordsRequest del;
  auto* dtp = del.add_topics();
  dtp->set_topic("t");
  auto* dp = dtp->add_partitions();
  dp->set_partition(1);
  dp->set_before_offset(base + 1);  // drops the control batch and "x"
  v1::DeleteRecordsResponse delr;
  REQUIRE(k.admin->DeleteRecords(with_deadline(c6), del, &delr).ok());
  CHECK(delr.topics(0).partitions(0).error_code() == v1::NONE);
  CHECK(delr.topics(0).partitions(0).low_watermark() == base + 1);
  CHECK(fetch(k, "t", 1, 0).error_code() == v1::OFFSET_OUT_OF_RANGE);
  CHECK(fetch(k, "t", 1, base).error_code() == v1::OFFSET_OUT_OF_RANGE);
  auto left = fetch_all(k, "t", 1, base + 1);
  REQUIRE(left.size() == 1);
  CHECK(left[0].value == "y");
}

TEST_CASE("restart keeps topics, configs and data", "[e2e]") {
  kappad k;
  k.start();
  create_topic(k, "keep", 2, {{"retention.bytes", "100000000"}});
  for (int i = 0; i < 20; ++i) {
    REQUIRE(produce(k, "keep", i % 2, make_batch({"v" + std::to_string(i)})).error_code() == v1::NONE);
  }
  REQUIRE(k.stop(SIGTERM) == 0);
  k.start();
  int64_t last_p0 = -1;
  for (int p = 0; p < 2; ++p) {
    auto recs = fetch_all(k, "keep", p);
    REQUIRE(recs.size() == 10);
    for (int i = 0; i < 10; ++i) CHECK(recs[i].value == "v" + std::to_string(i * 2 + p));
    if (p == 0) last_p0 = recs.back().offset;
  }
  grpc::ClientContext ctx;
  v1::DescribeConfigsRequest dr;
  dr.add_topics("keep");
  v1::DescribeConfigsResponse dresp;
  REQUIRE(k.admin->DescribeConfigs(with_deadline(ctx), dr, &dresp).ok());
  for (const auto& e : dresp.results(0).entries()) {
    if (e.name() == "retention.bytes") CHECK(e.value() == "100000000");
  }
  // Appends continue after the recovered end (and the new term's control
  // batch), overwriting nothing.
  const int64_t after = produce(k, "keep", 0, make_batch({"after"})).base_offset();
  CHECK(after > last_p0);
  CHECK(latest_offset(k, "keep", 0) == after + 1);
  auto recs = fetch_all(k, "keep", 0);
  REQUIRE(recs.size() == 11);
  CHECK(recs[9].value == "v18");
  CHECK(recs[10].offset == after);
  CHECK(recs[10].value == "after");
}

TEST_CASE("a second kappad on the same data dir fails at once", "[e2e]") {
  kappad k;
  k.start();
  int status = k.run_to_exit({"--listen", "127.0.0.1:" + std::to_string(kappa::test::unused_port()),
                              "--data-dir", k.data_dir, "--metrics-listen", ""});
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(k.stop(SIGTERM) == 0);
}

TEST_CASE("long-poll fetch returns when data arrives", "[e2e]") {
  kappad k;
  k.start();
  create_topic(k, "lp", 1);
  // Wait at the end of the log (past the leader's control batch), or the
  // fetch would answer at once with that batch.
  const int64_t end = wait_for_first_term(k, "lp", 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread producer([&] {
    std::this_thread::sleep_for(300ms);
    produce(k, "lp", 0, make_batch({"late"}));
  });
  auto r = fetch(k, "lp", 0, end, /*max_wait_ms=*/10000, /*min_bytes=*/1);
  const auto waited = std::chrono::steady_clock::now() - t0;
  producer.join();
  REQUIRE(r.error_code() == v1::NONE);
  auto got = decode_batches(r.records(), end);
  REQUIRE(got.records.size() == 1);
  CHECK(got.records[0].value == "late");
  CHECK(waited >= 250ms);
  CHECK(waited < 8s);
  // With nothing arriving, it answers empty after max_wait_ms.
  const auto t1 = std::chrono::steady_clock::now();
  auto empty = fetch(k, "lp", 0, got.next_offset, 300, 1);
  CHECK(empty.error_code() == v1::NONE);
  CHECK(empty.records().empty());
  CHECK(std::chrono::steady_clock::now() - t1 >= 250ms);
}

TEST_CASE("fetch stream tails a partition", "[e2e]") {
  kappad k;
  k.start();
  create_topic(k, "tail", 1);
  produce(k, "tail", 0, make_batch({"0", "1"}));
  grpc::ClientContext ctx;
  with_deadline(ctx);
  v1::FetchStreamRequest req;
  req.set_topic("tail");
  req.set_offset(0);
  auto reader = k.broker->FetchStream(&ctx, req);
  std::thread producer([&] {
    for (int i = 2; i < 10; ++i) produce(k, "tail", 0, make_batch({std::to_string(i)}));
  });
  std::vector<std::string> got;
  int64_t next = 0;  // the stream started at 0, the leader's control batch
  v1::FetchStreamResponse msg;
  while (got.size() < 10 && reader->Read(&msg)) {
    REQUIRE(msg.error_code() == v1::NONE);
    auto d = decode_batches(msg.records(), next);
    for (auto& r : d.records) got.push_back(r.value);
    next = std::max(next, d.next_offset);
  }
  producer.join();
  ctx.TryCancel();
  REQUIRE(got.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(got[i] == std::to_string(i));
  // A clean shutdown ends a parked stream too.
  CHECK(k.stop(SIGTERM) == 0);
}

TEST_CASE("delete topic and recreate it empty", "[e2e]") {
  kappad k;
  k.start();
  create_topic(k, "gone", 1);
  produce(k, "gone", 0, make_batch({"x"}));
  grpc::ClientContext ctx;
  v1::DeleteTopicsRequest req;
  req.add_names("gone");
  v1::DeleteTopicsResponse resp;
  REQUIRE(k.admin->DeleteTopics(with_deadline(ctx), req, &resp).ok());
  CHECK(resp.results(0).error_code() == v1::NONE);
  CHECK(produce(k, "gone", 0, make_batch({"y"})).error_code() == v1::UNKNOWN_TOPIC_OR_PARTITION);
  create_topic(k, "gone", 1);
  // Empty again: no data record survives, and a produce lands at the end.
  const int64_t end = wait_for_first_term(k, "gone", 0);
  CHECK(fetch_all(k, "gone", 0).empty());
  CHECK(produce(k, "gone", 0, make_batch({"z"})).base_offset() == end);
  auto recs = fetch_all(k, "gone", 0);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].value == "z");
}
