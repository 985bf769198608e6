// The set of topics and their configs: what must survive a restart besides
// the logs themselves.
//
// topic_store is the seam the replication issue fills with the controller's
// metadata image; on one node, file_topic_store keeps the whole set in one
// checksummed metadata file (`<data_dir>/__kappa/topics`), rewritten
// atomically on each change (storage::write_metadata_file), so a crash
// leaves the old set or the new one.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/topic_config.h"
#include "proto/format/result.h"
#include "storage/env.h"

namespace kappa::broker {

struct topic_info {
  std::string name;
  int32_t partitions = 0;
  int32_t replication_factor = 1;
  topic_overrides configs;
  bool operator==(const topic_info&) const = default;
};

class topic_store {
 public:
  virtual ~topic_store() = default;
  // Every topic, in name order.
  virtual std::vector<topic_info> list() const = 0;
  virtual std::optional<topic_info> get(const std::string& name) const = 0;
  // Errors: errc::topic_already_exists; storage errors when it cannot persist
  // (then nothing changed).
  virtual Status create(const topic_info& topic) = 0;
  // Errors: errc::unknown_topic_or_partition.
  virtual Status remove(const std::string& name) = 0;
  // Replaces the topic's overrides. Errors: errc::unknown_topic_or_partition.
  virtual Status set_configs(const std::string& name, const topic_overrides& configs) = 0;
};

// Opens (creating if missing) the file store at `path`. A damaged file is an
// error (the broker refuses to start rather than forget topics).
// REQUIRES: `e` outlives the store; the parent directory exists.
Result<std::unique_ptr<topic_store>> open_file_topic_store(storage::env& e, std::string path);

// The payload codec, exposed for tests.
byte_buffer encode_topics(const std::vector<topic_info>& topics);
Result<std::vector<topic_info>> decode_topics(byte_view payload);

}  // namespace kappa::broker
