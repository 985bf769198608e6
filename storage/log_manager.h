// storage::log_manager — owns every partition log under one data dir.
//
// At open it takes `<data_dir>/.lock` (a second process on the same data dir
// is refused with a clear message), and opens every `<topic>-<partition>`
// directory in parallel. A background thread flushes logs under
// flush_policy::interval and enforces retention. close() closes every log
// cleanly (clean-shutdown checkpoints).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "storage/env.h"
#include "storage/log.h"
#include "storage/log_config.h"

namespace kappa::storage {

struct partition_id {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const partition_id&) const = default;
  auto operator<=>(const partition_id&) const = default;
  // "<topic>-<partition>", the directory name.
  std::string dir_name() const;
  // Parses a directory name; the partition is after the last '-'.
  static std::optional<partition_id> parse(const std::string& dir_name);
};

struct log_manager_options {
  log_config default_config;      // for logs found on disk at open
  int open_threads = 4;           // parallel opens at start
  int64_t retention_check_interval_ms = 5 * 60 * 1000;
  bool background = true;         // run the flush/retention thread
};

class log_manager {
 public:
  // REQUIRES: `e` outlives the manager.
  static Result<std::unique_ptr<log_manager>> open(env& e, std::string data_dir,
                                                   log_manager_options options);
  virtual ~log_manager() = default;

  // The log, or nullptr. The pointer stays valid until remove() or close().
  virtual log* get(const partition_id& id) const = 0;
  // Creates the log if it does not exist (with `config`), else returns it.
  virtual Result<log*> get_or_create(const partition_id& id, const log_config& config) = 0;
  // Closes the log and deletes its directory.
  virtual Status remove(const partition_id& id) = 0;
  virtual std::vector<partition_id> partitions() const = 0;
  virtual const std::string& data_dir() const = 0;

  virtual Status close() = 0;
};

}  // namespace kappa::storage
