// Real kappad: crash consistency and idempotent retries.
#include <atomic>
#include <map>

#include "kappad_fixture.h"

using namespace kappa::e2e;

TEST_CASE("SIGKILL during a produce stream keeps every acknowledged record once, in order",
          "[e2e][durability]") {
  kappad k;
  k.start();
  create_topic(k, "d", 1);
  std::vector<int64_t> acked_offsets;
  std::vector<std::string> acked_values;
  std::atomic<bool> stop{false};
  std::thread killer([&] {
    std::this_thread::sleep_for(1500ms);
    stop = true;
  });
  {
    grpc::ClientContext ctx;
    with_deadline(ctx);
    auto stream = k.broker->ProduceStream(&ctx);
    // Pipelined: up to 8 requests in flight; each carries one record.
    int sent = 0;
    std::atomic<int> received{0};
    std::thread reader([&] {
      v1::ProduceResponse resp;
      while (stream->Read(&resp)) {
        const auto& p = resp.topics(0).partitions(0);
        if (p.error_code() != v1::NONE) break;
        acked_offsets.push_back(p.base_offset());
        acked_values.push_back("r" + std::to_string(resp.correlation_id()));
        ++received;
      }
    });
    for (int i = 0; i < 20000 && !stop; ++i) {
      auto req = produce_req("d", 0, make_batch({"r" + std::to_string(i)}), v1::ACKS_ALL);
      req.set_correlation_id(uint64_t(i));
      if (!stream->Write(req)) break;
      ++sent;
      while (sent - received > 8 && !stop) std::this_thread::sleep_for(1ms);
    }
    k.stop(SIGKILL);
    reader.join();
    ctx.TryCancel();
  }
  killer.join();
  REQUIRE(acked_offsets.size() > 10);
  k.start();
  auto recs = fetch_all(k, "d", 0);  // data records only, offsets strictly increasing
  REQUIRE(recs.size() >= acked_offsets.size());
  // Every acknowledged record is where its ack said, and all records are in
  // send order with no duplicates. Offsets may have gaps (control batches
  // of leader terms), so look records up by offset.
  std::map<int64_t, std::string> by_offset;
  for (const auto& r : recs) by_offset[r.offset] = r.value;
  for (size_t i = 0; i < acked_offsets.size(); ++i) {
    INFO("ack " << i << " at offset " << acked_offsets[i]);
    auto it = by_offset.find(acked_offsets[i]);
    REQUIRE(it != by_offset.end());
    REQUIRE(it->second == acked_values[i]);
  }
  for (size_t i = 0; i < recs.size(); ++i) {
    CHECK(recs[i].value == "r" + std::to_string(i));
  }
}

TEST_CASE("an idempotent retry after a lost response returns the original offset",
          "[e2e][durability]") {
  kappad k;
  k.start();
  create_topic(k, "idem", 1);
  grpc::ClientContext ctx;
  v1::InitProducerIdRequest ir;
  ir.set_producer_id(-1);
  ir.set_producer_epoch(-1);
  v1::InitProducerIdResponse pid;
  REQUIRE(k.broker->InitProducerId(with_deadline(ctx), ir, &pid).ok());
  REQUIRE(pid.error_code() == v1::NONE);
  REQUIRE(pid.producer_id() >= 0);
  const int64_t id = pid.producer_id();
  const auto b0 = make_batch({"a", "b"}, id, 0, 0);
  const auto b1 = make_batch({"c"}, id, 0, 2);
  // Offsets relative to the first data record (the term's control batch
  // comes first).
  const int64_t base = produce(k, "idem", 0, make_batch({"other"})).base_offset();
  REQUIRE(base >= 0);
  CHECK(produce(k, "idem", 0, b0).base_offset() == base + 1);
  CHECK(produce(k, "idem", 0, b1).base_offset() == base + 3);
  // The responses were "lost": the producer sends both again.
  CHECK(produce(k, "idem", 0, b0).base_offset() == base + 1);
  CHECK(produce(k, "idem", 0, b1).base_offset() == base + 3);
  // A gap is refused.
  auto gap = produce(k, "idem", 0, make_batch({"e"}, id, 0, 9));
  CHECK(gap.error_code() == v1::OUT_OF_ORDER_SEQUENCE_NUMBER);
  // Survives a crash (state rebuilt from the log) and a clean restart
  // (snapshot).
  for (int sig : {SIGKILL, SIGTERM}) {
    k.stop(sig);
    k.start();
    CHECK(produce(k, "idem", 0, b1).base_offset() == base + 3);
  }
  auto recs = fetch_all(k, "idem", 0);
  REQUIRE(recs.size() == 4);
  CHECK(recs[3].offset == base + 3);
  CHECK(recs[3].value == "c");
  // A bumped epoch fences the old one.
  grpc::ClientContext c2;
  ir.set_producer_id(id);
  ir.set_producer_epoch(0);
  REQUIRE(k.broker->InitProducerId(with_deadline(c2), ir, &pid).ok());
  CHECK(pid.producer_epoch() == 1);
  // Lands at the end: past the restarts' control batches, not at base + 4.
  const int64_t n_offset = produce(k, "idem", 0, make_batch({"n"}, id, 1, 0)).base_offset();
  CHECK(n_offset > base + 3);
  CHECK(latest_offset(k, "idem", 0) == n_offset + 1);
  CHECK(produce(k, "idem", 0, make_batch({"o"}, id, 0, 3)).error_code() == v1::INVALID_PRODUCER_EPOCH);
  // Fresh ids never repeat across restarts.
  k.stop(SIGKILL);
  k.start();
  grpc::ClientContext c3;
  ir.set_producer_id(-1);
  ir.set_producer_epoch(-1);
  REQUIRE(k.broker->InitProducerId(with_deadline(c3), ir, &pid).ok());
  CHECK(pid.producer_id() > id);
}
