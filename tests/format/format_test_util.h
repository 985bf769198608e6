// Helpers shared by the format tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "proto/format/batch_validator.h"
#include "proto/format/compression.h"
#include "proto/format/errc.h"
#include "proto/format/record_batch.h"
#include "proto/format/records.h"

namespace kappa::format::testing {

// Three small records: a plain one, a null value with headers, a null key.
inline std::vector<record> sample_records() {
  std::vector<record> rs(3);
  rs[0].key = "k0";
  rs[0].value = "value-0";
  rs[0].timestamp = 1700000000000;
  rs[1].key = "k1";
  rs[1].value = std::nullopt;
  rs[1].headers = {{"h1", std::string("v1")}, {"h2", std::nullopt}};
  rs[1].timestamp = 1700000000005;
  rs[2].key = std::nullopt;
  rs[2].value = "value-2";
  rs[2].timestamp = 1700000000003;
  return rs;
}

inline byte_buffer sample_batch(const batch_options& options = {}) {
  auto b = build_batch(options, sample_records());
  REQUIRE(b.ok());
  return std::move(b).value();
}

inline std::string str(std::optional<byte_view> b) {
  return b ? std::string(as_chars(*b)) : "<null>";
}

// Rewrites the header of `batch` and, when recrc, recomputes the CRC so a
// check other than the CRC's is what fires.
template <typename F>
void mutate_header(byte_buffer& batch, F&& f, bool recrc = true) {
  batch_header h = read_header(batch);
  f(h);
  write_header(h, batch);
  if (recrc) {
    h.crc = compute_batch_crc(batch);
    write_header(h, batch);
  }
}

inline void recrc(byte_buffer& batch) {
  mutate_header(batch, [](batch_header&) {});
}

}  // namespace kappa::format::testing
