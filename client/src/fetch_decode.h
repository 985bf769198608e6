// Turning a fetched partition's bytes into consumed records. Pure: the
// consumer and the tests call it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kappa/consumer.h"

namespace kappa::client {

struct decoded_chunk {
  // The offset after the last batch looked at: where the position moves,
  // past control batches and skipped records too.
  int64_t next_offset = 0;
  size_t control_batches_skipped = 0;
  size_t records_below_position_skipped = 0;
};

// Appends to `out` every record of the whole batches in `bytes` whose offset
// is >= position, in order. Control batches (attribute bit 5) are skipped but
// move next_offset past them. A trailing partial batch is ignored (the next
// fetch starts at it). With check_crcs, a batch whose CRC32C does not match
// fails with corrupt_message, as does any batch that does not decode.
Result<decoded_chunk> decode_fetched(std::string_view bytes, const std::string& topic, int32_t partition,
                                     int64_t position, bool check_crcs, std::vector<consumed_record>& out);

// The offset after the last whole batch in `bytes`, or `fallback` if there is
// none. Reads headers only.
int64_t next_fetch_offset(std::string_view bytes, int64_t fallback);

// The record count the whole batches in `bytes` declare (control batches
// included): an upper bound on what decode_fetched appends. Reads headers only.
size_t declared_record_count(std::string_view bytes);

}  // namespace kappa::client
