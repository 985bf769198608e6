// How the core turns its own entries (a new leader's no-op, a membership
// change) into payload bytes, and reads a config back. The default codec
// keeps the core's plain encoding (noop: empty; config: encode_config); the
// group runner supplies one that makes Kafka control batches, so the Raft
// log can be the partition log byte for byte.
#pragma once

#include <string>

#include "replication/raft/types.h"

namespace kappa::raft {

class entry_codec {
 public:
  virtual ~entry_codec() = default;
  // The payload of the one-offset no-op a leader of `term` appends at `index`.
  virtual std::string noop(term_id term, log_index index) const = 0;
  // The payload of a one-offset config entry at `index` holding `c`.
  virtual std::string config_entry(const config& c, term_id term, log_index index) const = 0;
  // Reads a config entry's payload; false when the bytes are not one.
  virtual bool read_config(const std::string& payload, config* out) const = 0;
};

// noop -> "", config -> encode_config(c); read_config = decode_config.
const entry_codec& default_entry_codec();

}  // namespace kappa::raft
