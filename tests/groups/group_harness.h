// group_harness: what the group process tests drive — group_member child
// processes (tests/groups/group_member_main.cc), a background producer that
// remembers where every record landed, and admin helpers that wait, with a
// bound, for a group to settle.
//
// Member processes die with the test process (PR_SET_PDEATHSIG), are
// SIGKILLed at destruction if still running, and log into a directory the
// test names (the cluster's directory, kept when a test fails).
//
// Thread safety: member_process and the helpers are driven by the test
// thread; background_producer's methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kappa/admin.h"
#include "kappa/client_config.h"
#include "kappa/producer.h"
#include "tests/groups/group_checks.h"
#include "tests/groups/member_log.h"

namespace kappa_groups {

int64_t mono_ns();

// $GROUP_MEMBER_BINARY, else <build>/tests/groups/group_member.
std::string member_binary();

// kappad flags that shorten the coordinator's timers for tests, those the
// binary lists in --help (flags of the coordinator in progress vary).
std::vector<std::string> kappad_group_flags(const std::string& kappad);

struct member_spec {
  std::string name;  // the test's name for it; also its client id and log file name
  std::string group;
  std::vector<std::string> topics;
  std::string instance_id;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 20000;
  int64_t commit_interval_ms = 300;
  int64_t process_us_per_record = 0;
  int64_t process_ms_per_poll = 0;
  int64_t max_poll_records = 500;
};

class member_process {
 public:
  // Starts the member at once; its log is <dir>/<name>.log.
  member_process(const std::string& dir, const std::string& bootstrap, member_spec spec);
  ~member_process();  // SIGKILL + reap if still running
  member_process(const member_process&) = delete;
  member_process& operator=(const member_process&) = delete;

  const std::string& name() const { return spec_.name; }
  const std::string& log_path() const { return log_path_; }
  member_log log() const { return read_member_log(log_path_, spec_.name); }
  member_history history() const { return {log(), killed_at_ns_}; }
  bool running();

  // SIGTERM and wait up to timeout_ms; true when it exited with status 0.
  bool terminate(int timeout_ms = 15000);
  // SIGKILL now; returns the time (CLOCK_MONOTONIC ns) taken just before.
  int64_t kill();
  int64_t pause();   // SIGSTOP
  int64_t resume();  // SIGCONT
  int64_t killed_at_ns() const { return killed_at_ns_; }

 private:
  member_spec spec_;
  std::string log_path_;
  pid_t pid_ = -1;
  int64_t killed_at_ns_ = -1;
};

// Polls `pred` every 50 ms until it holds or timeout_ms passed.
bool wait_until(const std::function<bool()>& pred, int64_t timeout_ms);

kappa::client_config client_config_for(const std::string& bootstrap);

// Creates the topic (retrying while the controller is elected) and waits
// until every partition has a leader. Returns "" or what failed.
std::string create_topic(kappa::admin& admin, const std::string& topic, int32_t partitions, int32_t rf,
                         int64_t timeout_ms);

// Waits until describe_group shows the group Stable with `members` members,
// each Stable, whose assignments cover `partitions` partitions exactly once.
// Returns the description, or nothing after timeout_ms (`last` says what was
// seen last).
std::optional<kappa::group_description> wait_group_stable(kappa::admin& admin, const std::string& group,
                                                          size_t members, int partitions, int64_t timeout_ms,
                                                          std::string* last = nullptr);
std::string summarize(const kappa::group_description& d);

// Produces to every partition of a topic in turn (explicit partitions) at
// about `records_per_s`, acks=all, and remembers each acknowledged offset.
class background_producer {
 public:
  background_producer(const std::string& bootstrap, std::string topic, int32_t partitions, int records_per_s);
  ~background_producer();  // stops
  // Stops sending and waits for every report (bounded by the delivery timeout).
  void stop();
  // Sends exactly n records to partition p and waits for them; false on error.
  bool produce_now(int32_t partition, int n);
  int64_t acknowledged() const;
  int64_t failed() const;
  std::map<kappa::topic_partition, std::set<int64_t>> produced() const;
  // The time of the last acknowledged record (0 if none).
  int64_t last_ack_ns() const;

 private:
  void on_report(const kappa::delivery_report& r);

  std::string topic_;
  int32_t partitions_;
  std::unique_ptr<kappa::producer> producer_;
  mutable std::mutex mu_;
  std::map<kappa::topic_partition, std::set<int64_t>> produced_;
  int64_t acked_ = 0, failed_ = 0, last_ack_ns_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Latest offsets (high watermarks) of every partition of a topic.
std::map<kappa::topic_partition, int64_t> high_watermarks(kappa::admin& admin, const std::string& topic,
                                                          int32_t partitions);

// Every processed record per partition, all members together.
std::map<kappa::topic_partition, std::set<int64_t>> processed(const std::vector<member_history>& members);

// A readable dump of members' logs (the last `lines` events of each).
std::string dump_logs(const std::vector<member_history>& members, size_t lines);

}  // namespace kappa_groups
