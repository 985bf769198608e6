// Helpers shared by the storage log tests: batches, a fault_env over a
// mem_env, and whole-log reads.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/batch_validator.h"
#include "proto/format/record_batch.h"
#include "proto/format/records.h"
#include "storage/env.h"
#include "storage/errc.h"
#include "storage/fault_env.h"
#include "storage/log.h"

namespace kappa::storage::test {

// A batch of `records` records with timestamps ts, ts+1, ... and values of
// `value_bytes` bytes derived from `tag`.
inline byte_buffer make_batch(int records, int64_t ts, size_t value_bytes = 100, int tag = 0) {
  std::vector<format::record> rs(records);
  for (int i = 0; i < records; ++i) {
    rs[i].key = "key-" + std::to_string(tag) + "-" + std::to_string(i);
    rs[i].value = std::string(value_bytes, static_cast<char>('a' + (tag + i) % 26));
    rs[i].timestamp = ts + i;
  }
  auto b = format::build_batch({}, rs);
  REQUIRE(b.ok());
  return std::move(b).value();
}

// A config with small segments so tests roll often.
inline log_config small_config(uint64_t segment_bytes = 4096) {
  log_config c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = 512;
  c.max_batch_bytes = 64 << 10;
  c.retention_ms = -1;
  return c;
}

// A fault_env over a mem_env with small per-file reservations.
struct fault_fixture {
  std::unique_ptr<env> base = new_mem_env(uint64_t{8} << 20);
  fault_env fe{*base};
  std::string dir = "/data/topic-0";
};

inline bool crc_ok(byte_view batch) {
  return format::validate_batch(batch, {}, format::validation_depth::header_and_crc).ok();
}

// Splits a read_view's bytes into batches.
inline std::vector<byte_buffer> split_batches(byte_view bytes) {
  std::vector<byte_buffer> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    REQUIRE(pos + format::kBatchHeaderBytes <= bytes.size());
    auto h = format::read_header(bytes.subspan(pos));
    REQUIRE(pos + h.size_bytes() <= bytes.size());
    out.emplace_back(bytes.begin() + pos, bytes.begin() + pos + h.size_bytes());
    pos += h.size_bytes();
  }
  return out;
}

// Every batch from the log start to its end, copied.
inline std::vector<byte_buffer> read_all(const log& l, size_t max_bytes = 1 << 20) {
  std::vector<byte_buffer> out;
  int64_t off = l.log_start_offset();
  for (int guard = 0; off < l.log_end_offset() && guard < 100000; ++guard) {
    auto v = l.read(off, max_bytes);
    REQUIRE(v.ok());
    REQUIRE(!v->batches.empty());
    for (auto& b : split_batches(v->batches)) out.push_back(std::move(b));
    REQUIRE(v->next_offset > off);
    off = v->next_offset;
  }
  return out;
}

inline std::unique_ptr<log> open_log(env& e, const std::string& dir, const log_config& c) {
  auto l = log::open(e, dir, c);
  INFO(l.status().to_string());
  REQUIRE(l.ok());
  return std::move(l).value();
}

}  // namespace kappa::storage::test
