// Hands out idempotent producer ids from a counter persisted in
// `<data_dir>/__kappa/producer_ids`. Ids are reserved in blocks of
// kProducerIdBlock: one fsync per block, not per InitProducerId, and after a
// crash the next start resumes past the whole reserved block, so an id is
// never handed out twice.
//
// Thread safety: every method may be called from any thread. allocate() may
// fsync: call it off the gRPC threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::broker {

inline constexpr int64_t kProducerIdBlock = 1000;

class producer_ids {
 public:
  // REQUIRES: `e` outlives this; the parent directory of `path` exists.
  static Result<std::unique_ptr<producer_ids>> open(storage::env& e, std::string path);
  Result<int64_t> allocate();

 private:
  producer_ids(storage::env& e, std::string path, int64_t next)
      : env_(e), path_(std::move(path)), next_(next), reserved_until_(next) {}

  storage::env& env_;
  const std::string path_;
  std::mutex mu_;
  int64_t next_;
  int64_t reserved_until_;  // ids below it are persisted as used
};

}  // namespace kappa::broker
