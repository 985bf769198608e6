// The producer's accumulator without I/O: partition choice, batching by
// linger and size, buffer accounting, in-flight limits, sequence numbers.
#include <catch2/catch.hpp>

#include <set>

#include "client/src/accumulator.h"
#include "client/src/murmur2.h"

using kappa::client::accumulator;
using kappa::client::accumulator_options;
using kappa::client::producer_batch;

namespace {

kappa::format::record make_record(std::optional<std::string> key, size_t value_bytes) {
  kappa::format::record r;
  r.key = std::move(key);
  r.value = std::string(value_bytes, 'v');
  return r;
}

// Appends and returns the partition.
int32_t add(accumulator& acc, const std::string& topic, std::optional<int32_t> partition,
            std::optional<std::string> key, size_t value_bytes, int64_t now, int32_t partitions = 8) {
  auto r = make_record(std::move(key), value_bytes);
  const size_t bytes = kappa::client::estimate_record_bytes(r);
  return acc.append(topic, partition, partitions, std::move(r), bytes, nullptr, now, now + 60000);
}

const auto always = [](const kappa::topic_partition&) { return true; };

}  // namespace

TEST_CASE("explicit partitions and keys decide the partition", "[client][partitioner]") {
  accumulator acc({.batch_bytes = 1 << 20, .linger_ms = 10, .seed = 1});
  CHECK(add(acc, "t", 5, std::nullopt, 10, 0) == 5);
  CHECK(add(acc, "t", 5, std::string("k"), 10, 0) == 5);  // explicit wins over the key
  for (const char* key : {"a", "user-42", "kappa"}) {
    CHECK(add(acc, "t", std::nullopt, std::string(key), 10, 0) == kappa::client::key_partition(key, 8));
  }
}

TEST_CASE("null keys stick to one partition until its batch is sealed, then switch", "[client][partitioner]") {
  // 500-byte records, 4 KiB batches: about 7 fit.
  accumulator acc({.batch_bytes = 4096, .linger_ms = 1000, .seed = 7});
  const int32_t first = add(acc, "t", std::nullopt, std::nullopt, 500, 0);
  int same = 1;
  int32_t p = first;
  while ((p = add(acc, "t", std::nullopt, std::nullopt, 500, 0)) == first) {
    ++same;
    REQUIRE(same < 100);
  }
  CHECK(same >= 7);   // filled the batch first
  CHECK(same <= 8);
  CHECK(p != first);  // then moved on
  // The full batch was sealed on the first partition, the new record opened
  // one on the next: draining now takes exactly the sealed one.
  auto drained = acc.drain(0, false, always, -1);
  REQUIRE(drained.size() == 1);
  CHECK(drained[0]->tp.partition == first);
  CHECK(drained[0]->records.size() == static_cast<size_t>(same));

  SECTION("a batch sent by linger also moves the sticky partition") {
    auto lingered = acc.drain(1000, false, always, -1);
    REQUIRE(lingered.size() == 1);
    CHECK(lingered[0]->tp.partition == p);
    CHECK(add(acc, "t", std::nullopt, std::nullopt, 500, 1000) != p);
  }
}

TEST_CASE("batches wait for linger_ms unless full or flushed", "[client][batching]") {
  accumulator acc({.batch_bytes = 1000, .linger_ms = 50, .seed = 1});
  for (int i = 0; i < 3; ++i) add(acc, "t", 0, std::nullopt, 100, 0);
  CHECK(acc.drain(49, false, always, -1).empty());
  CHECK(acc.next_ready_ms() == 50);
  auto lingered = acc.drain(50, false, always, -1);
  REQUIRE(lingered.size() == 1);
  CHECK(lingered[0]->records.size() == 3);

  // Size: a batch is sealed as soon as it reaches batch_bytes.
  for (int i = 0; i < 25; ++i) add(acc, "t", 1, std::nullopt, 100, 100);
  auto full = acc.drain(100, false, always, -1);  // linger has not passed
  REQUIRE(full.size() >= 2);
  for (auto& b : full) CHECK(b->size_bytes <= 1000);
  // Flush takes the open remainder at once.
  auto rest = acc.drain(100, true, always, -1);
  size_t records = 0;
  for (auto& b : full) records += b->records.size();
  for (auto& b : rest) records += b->records.size();
  CHECK(records == 25);
}

TEST_CASE("the buffer accounts queued and in-flight bytes until completion", "[client][backpressure]") {
  accumulator acc({.batch_bytes = 1000, .linger_ms = 0, .buffer_bytes = 2000, .seed = 1});
  while (acc.has_room(121)) add(acc, "t", 0, std::nullopt, 100, 0);
  CHECK(acc.buffer_used() > 1800);
  auto drained = acc.drain(0, true, always, -1);
  CHECK_FALSE(acc.has_room(121));  // in flight still holds the bytes
  for (auto& b : drained) acc.complete(*b, true);
  CHECK(acc.buffer_used() == 0);
}

TEST_CASE("at most max_in_flight batches per partition, with consecutive sequences", "[client][idempotence]") {
  accumulator acc({.batch_bytes = 200, .linger_ms = 0, .max_in_flight_per_partition = 5, .seed = 1});
  for (int i = 0; i < 40; ++i) add(acc, "t", 0, std::nullopt, 100, 0);  // one batch per ~2 records
  auto first = acc.drain(0, true, always, 77);
  REQUIRE(first.size() == 5);
  int32_t expected = 0;
  for (auto& b : first) {
    CHECK(b->base_sequence == expected);
    expected += static_cast<int32_t>(b->records.size());
  }
  CHECK(acc.drain(0, true, always, 77).empty());  // the limit holds
  acc.complete(*first[0], true);
  auto next = acc.drain(0, true, always, 77);
  REQUIRE(next.size() == 1);
  CHECK(next[0]->base_sequence == expected);
}

TEST_CASE("a retried batch keeps its sequence and goes alone, ahead of newer batches", "[client][idempotence]") {
  accumulator acc({.batch_bytes = 200, .linger_ms = 0, .max_in_flight_per_partition = 5, .seed = 1});
  for (int i = 0; i < 20; ++i) add(acc, "t", 0, std::nullopt, 100, 0);
  auto sent = acc.drain(0, true, always, 9);
  REQUIRE(sent.size() == 5);
  std::vector<int32_t> sequences;
  for (auto& b : sent) {
    b->attempts = 1;
    sequences.push_back(b->base_sequence);
  }
  // The stream broke: all five come back for retry (any order).
  CHECK(acc.earlier_batch_pending(*sent[1]));
  for (int i = 4; i >= 0; --i) acc.retry(std::move(sent[static_cast<size_t>(i)]), 100);
  CHECK(acc.drain(99, true, always, 9).empty());  // backoff
  for (size_t i = 0; i < sequences.size(); ++i) {
    auto again = acc.drain(100, true, always, 9);
    REQUIRE(again.size() == 1);  // one at a time while a retry leads
    CHECK(again[0]->base_sequence == sequences[i]);
    acc.complete(*again[0], true);
  }
  auto fresh = acc.drain(100, true, always, 9);
  REQUIRE_FALSE(fresh.empty());
  CHECK(fresh[0]->attempts == 0);
  CHECK(fresh[0]->base_sequence > sequences.back());
}

TEST_CASE("without idempotence, retried batches still go out in send order", "[client][producer]") {
  accumulator acc({.batch_bytes = 200, .linger_ms = 0, .max_in_flight_per_partition = 5, .seed = 1});
  for (int i = 0; i < 20; ++i) add(acc, "t", 0, std::nullopt, 100, 0);
  auto sent = acc.drain(0, true, always, -1);  // no producer id: no sequences
  REQUIRE(sent.size() == 5);
  std::vector<uint64_t> ids;
  for (auto& b : sent) {
    CHECK(b->base_sequence == -1);
    b->attempts = 1;
    ids.push_back(b->id);
  }
  // A broken stream re-queues them oldest first, as the producer does;
  // ordering by sequence (all -1) would reverse them.
  for (size_t i = 0; i < sent.size(); ++i) acc.retry(std::move(sent[i]), 100);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto again = acc.drain(100, true, always, -1);
    REQUIRE(again.size() == 1);
    CHECK(again[0]->id == ids[i]);
    acc.complete(*again[0], true);
  }
  auto fresh = acc.drain(100, true, always, -1);
  REQUIRE_FALSE(fresh.empty());
  CHECK(fresh[0]->id > ids.back());
}
