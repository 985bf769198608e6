// Kafka's murmur2 partitioner against vectors from an independent Kafka
// implementation (python3-kafka; see make_murmur2_vectors.py).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "client/src/murmur2.h"

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  if (hex == "-") return out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("murmur2 and key partitions match python3-kafka's vectors", "[client][murmur2]") {
  std::ifstream in(KAPPA_SOURCE_DIR "/tests/client/murmur2_vectors.txt");
  REQUIRE(in.good());
  const int counts[] = {1, 3, 7, 12, 100};
  int checked = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string hex;
    uint64_t hash = 0;
    fields >> hex >> hash;
    const std::string key = from_hex(hex);
    INFO("key " << hex);
    CHECK(kappa::client::murmur2(key) == hash);
    for (int n : counts) {
      int expected = -1;
      fields >> expected;
      CHECK(kappa::client::key_partition(key, n) == expected);
    }
    ++checked;
  }
  CHECK(checked >= 80);
}
