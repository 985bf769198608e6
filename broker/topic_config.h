// Per-topic configs under Kafka's names, mapped to storage::log_config.
//
//   retention.ms       int64 >= -1         (-1 = keep forever)
//   retention.bytes    int64 >= -1         (-1 = no size limit)
//   segment.bytes      16 KiB .. 4 GiB
//   segment.ms         >= 1
//   max.message.bytes  64 .. 1 GiB         (largest batch accepted)
//   flush.ms           >= 1                (fsync period under flush.policy=interval)
//   flush.policy       always | interval
//
// A topic stores only the configs set on it ("overrides"); the rest come
// from the broker defaults, so changing a default flag changes every topic
// that did not override it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "storage/log_config.h"

namespace kappa::broker {

using topic_overrides = std::map<std::string, std::string>;

// Checks that every name is known and every value parses and is in range.
// Errors: errc::invalid_config, naming the config and the accepted range.
Status validate_topic_configs(const topic_overrides& configs);

// The log config of a topic: `defaults` with `overrides` applied.
// REQUIRES: validate_topic_configs(overrides) is ok.
storage::log_config effective_log_config(const storage::log_config& defaults,
                                         const topic_overrides& overrides);

struct config_entry {
  std::string name;
  std::string value;
  bool is_default = false;
  std::string documentation;
};

// Every topic config with its effective value, in name order.
std::vector<config_entry> describe_topic_configs(const storage::log_config& defaults,
                                                 const topic_overrides& overrides);

}  // namespace kappa::broker
