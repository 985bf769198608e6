// workload: a queue workload in the style of Jepsen's, through libkappa.
//
// Several idempotent producers (acks=all) send unique values "p<i>-<seq>" to
// the partitions of one topic in turn; consumers assigned to every partition
// poll throughout. The history records every value sent, every
// acknowledgement (value -> partition, offset) and every read of every
// consumer. After the faults heal, drain() reads each partition from its
// start to its high watermark; check() then judges the history:
// - every acknowledged value is in the drained log exactly once, at the
//   partition and offset its acknowledgement named;
// - no value appears twice (idempotence), and none was never sent;
// - every consumer saw strictly increasing offsets per partition, and every
//   record it read is the record the final log holds at that offset (no read
//   of data that was later lost or replaced).
//
// Thread safety: start/stop/drain/check from the test thread; producers'
// callbacks and consumer threads update the history under its mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kappa_cluster {

struct read_event {
  int consumer = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
};

struct history {
  std::mutex mu;
  std::set<std::string> sent;
  std::map<std::string, std::pair<int32_t, int64_t>> acked;  // value -> (partition, offset)
  uint64_t failed = 0;                                         // reports with an error
  std::vector<read_event> reads;
  std::vector<std::string> consumer_violations;  // offsets not strictly increasing
  std::vector<std::string> setup_errors;         // a client that could not be created
  std::map<int32_t, std::map<int64_t, std::string>> drained;  // partition -> offset -> value
  std::map<int32_t, int64_t> high_watermarks;
};

struct workload_options {
  std::string bootstrap;
  std::string topic = "jepsen";
  int partitions = 3;
  int producers = 3;
  int consumers = 2;
  int send_interval_ms = 4;  // per producer
};

class workload {
 public:
  explicit workload(workload_options options);
  ~workload();  // stops what still runs

  void start();
  // Stops sending, waits up to flush_ms for outstanding acknowledgements,
  // then closes producers and consumers. A client thread still running 10 s
  // after that (a close() that hangs) is detached and recorded as a setup
  // error; hung() is then true and the workload must be leaked, not
  // destroyed (the thread still uses it).
  void stop(int64_t flush_ms);
  bool hung() const { return hung_; }
  // Sends one value to each partition with its own producer; returns the
  // slowest acknowledgement in ms, or -1 if one was not acknowledged within
  // timeout_ms (the value is recorded as sent either way).
  int64_t probe_writes(int64_t timeout_ms);
  // Reads every partition from offset 0 to its high watermark (asked with
  // ListOffsets, retried) into history().drained. Returns "" or what failed.
  std::string drain(int64_t timeout_ms);
  // The checks listed above; returns one line per violation (empty = pass).
  std::vector<std::string> check();
  std::string summary();

  history& hist() { return h_; }
  const workload_options& options() const { return options_; }

 private:
  void produce_loop(int index);
  void consume_loop(int index);

  workload_options options_;
  history h_;
  std::atomic<bool> stop_{false};
  std::atomic<int> probes_{0};
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<std::atomic<bool>>> finished_;  // one per thread
  bool hung_ = false;
  std::atomic<int64_t> outstanding_{0};
  std::atomic<int64_t> flush_ms_{0};
};

}  // namespace kappa_cluster
