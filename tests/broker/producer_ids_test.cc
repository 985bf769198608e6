#include <catch2/catch.hpp>
#include <set>

#include "broker/producer_ids.h"

using namespace kappa::broker;

TEST_CASE("producer ids need a block first and then come tagged", "[broker][producer_ids]") {
  producer_ids ids(3);
  CHECK_FALSE(ids.take().has_value());
  ids.add_block(kProducerIdBlock, kProducerIdBlock);
  auto first = ids.take();
  REQUIRE(first.has_value());
  CHECK(*first == 0 * kProducerIdTags + 3);
  CHECK(*ids.take() == 1 * kProducerIdTags + 3);
}

TEST_CASE("a block is used up after its count and never reused", "[broker][producer_ids]") {
  producer_ids ids(1);
  ids.add_block(10, 10);
  std::set<int64_t> seen;
  while (auto id = ids.take()) CHECK(seen.insert(*id).second);
  CHECK(seen.size() == 10);
  ids.add_block(10, 10);  // the same end again: nothing new
  CHECK_FALSE(ids.take().has_value());
  ids.add_block(20, 10);
  while (auto id = ids.take()) CHECK(seen.insert(*id).second);
  CHECK(seen.size() == 20);
}

TEST_CASE("two brokers that see the same block end hand out different ids",
          "[broker][producer_ids]") {
  // Brokers 1 and 2 allocate at once; both learn the end of the newest block
  // (broker 2's) and take ids from it: their tags keep the ids apart.
  producer_ids a(1), b(2);
  a.add_block(2000, 1000);
  b.add_block(2000, 1000);
  std::set<int64_t> seen;
  for (int k = 0; k < 1000; ++k) {
    CHECK(seen.insert(*a.take()).second);
    CHECK(seen.insert(*b.take()).second);
  }
  CHECK_FALSE(a.take().has_value());
  // Broker 1's next block ends past the one it used: no overlap with itself.
  a.add_block(3000, 1000);
  for (int k = 0; k < 1000; ++k) CHECK(seen.insert(*a.take()).second);
}
