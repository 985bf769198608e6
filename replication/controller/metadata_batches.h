// How metadata records sit in the __controller log: one Kafka record per
// MetadataRecord (value = encode_record(r), no key), many records per
// RecordBatch v2 (uncompressed). Control batches (a leader's no-op, a
// membership change) carry no metadata and are skipped.
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proto/format/bytes.h"
#include "proto/format/result.h"
#include "replication/controller/metadata_image.h"

namespace kappa::controller {

// One batch holding `records` at offsets 0..n-1 (the log stamps the base).
// REQUIRES: !records.empty().
Result<std::string> build_metadata_batch(const std::vector<metadata_record>& records,
                                         int64_t timestamp_ms);

// Walks whole batches (as storage::log::read returns them): calls `fn` for
// every record with offset >= from, in order. Returns the offset after the
// last batch walked. A batch that does not decode is an error
// (unknown_server_error naming the offset): the log is damaged.
Result<int64_t> walk_metadata_batches(byte_view batches, int64_t from,
                                      const std::function<Status(int64_t, metadata_record)>& fn);

}  // namespace kappa::controller
