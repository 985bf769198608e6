// Real kappad: 100 producer streams and 100 long-polling fetchers at once;
// nothing is lost or duplicated, and every loop is bounded in time.
#include <atomic>
#include <map>

#include "kappad_fixture.h"

using namespace kappa::e2e;

TEST_CASE("100 producer streams and 100 fetchers lose nothing", "[e2e][concurrency]") {
  constexpr int kProducers = 100;
  constexpr int kFetchers = 100;
  constexpr int kPerProducer = 20;
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = kProducers * kPerProducer / kPartitions;
  kappad k;
  k.start();
  create_topic(k, "c", kPartitions);
  const auto deadline = std::chrono::steady_clock::now() + 120s;

  std::atomic<int> producer_failures{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      grpc::ClientContext ctx;
      with_deadline(ctx, 120s);
      auto stream = k.broker->ProduceStream(&ctx);
      for (int i = 0; i < kPerProducer; ++i) {
        auto req = produce_req("c", p % kPartitions,
                               make_batch({std::to_string(p) + "-" + std::to_string(i)}));
        req.set_correlation_id(uint64_t(i));
        if (!stream->Write(req)) break;
      }
      stream->WritesDone();
      v1::ProduceResponse resp;
      int ok = 0;
      while (stream->Read(&resp)) {
        if (resp.topics(0).partitions(0).error_code() == v1::NONE &&
            resp.correlation_id() == uint64_t(ok)) {
          ++ok;  // responses come back in request order
        }
      }
      if (!stream->Finish().ok() || ok != kPerProducer) ++producer_failures;
    });
  }
  std::atomic<int> fetcher_failures{0};
  for (int f = 0; f < kFetchers; ++f) {
    threads.emplace_back([&, f] {
      const int part = f % kPartitions;
      int64_t offset = 0;
      int seen = 0;
      while (seen < kPerPartition && std::chrono::steady_clock::now() < deadline) {
        grpc::ClientContext ctx;
        with_deadline(ctx, 30s);
        v1::FetchRequest req;
        req.set_max_wait_ms(500);
        req.set_min_bytes(1);
        auto* t = req.add_topics();
        t->set_topic("c");
        auto* fp = t->add_partitions();
        fp->set_partition(part);
        fp->set_fetch_offset(offset);
        fp->set_current_leader_epoch(-1);
        v1::FetchResponse resp;
        if (!k.broker->Fetch(&ctx, req, &resp).ok()) break;
        const auto& pr = resp.topics(0).partitions(0);
        if (pr.error_code() != v1::NONE) break;
        // Control batches (one per leader term) leave gaps between data
        // offsets; data offsets must still strictly increase.
        auto d = decode_batches(pr.records(), offset);
        bool ordered = true;
        for (const auto& r : d.records) {
          if (r.offset < offset) {
            ordered = false;
            break;
          }
          offset = r.offset + 1;
          ++seen;
        }
        if (!ordered) break;
        if (d.next_offset > offset) offset = d.next_offset;
      }
      if (seen != kPerPartition) ++fetcher_failures;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(producer_failures == 0);
  CHECK(fetcher_failures == 0);

  // Each producer's records: exactly once, in its send order.
  for (int part = 0; part < kPartitions; ++part) {
    auto recs = fetch_all(k, "c", part);
    REQUIRE(recs.size() == size_t(kPerPartition));
    std::map<int, int> next;  // producer -> next expected index
    for (const auto& r : recs) {
      auto dash = r.value.find('-');
      int p = std::stoi(r.value.substr(0, dash));
      int i = std::stoi(r.value.substr(dash + 1));
      CHECK(p % kPartitions == part);
      CHECK(i == next[p]);
      next[p] = i + 1;
    }
  }
  CHECK(k.stop(SIGTERM) == 0);
}
