#include "broker/group/assignor.h"

#include <catch2/catch.hpp>

using namespace kappa::broker::group;

TEST_CASE("range gives contiguous ranges, the first subscribers one more", "[assignor]") {
  std::vector<assignor_member> members{{"b", {"t"}, {}}, {"a", {"t"}, {}}, {"c", {"t"}, {}}};
  auto out = assign_range(members, {{"t", 7}});
  CHECK(out["a"]["t"] == std::set<int32_t>{0, 1, 2});
  CHECK(out["b"]["t"] == std::set<int32_t>{3, 4});
  CHECK(out["c"]["t"] == std::set<int32_t>{5, 6});
}
