// group_member: one consumer-group member as its own process, for the group
// process tests. It joins `--group` through kappa::consumer::subscribe,
// processes what it is assigned and commits after processing: the offsets
// it processed, explicitly, every --commit-interval-ms and in on_revoked.
// Everything it sees and does goes to its log (--log, format in
// tests/groups/member_log.h), from which the tests reconstruct who owned
// which partition when.
//
// SIGTERM/SIGINT: close() (on_revoked commits, the member leaves), EXIT, 0.
// Exit status 2: bad arguments or the consumer could not be created.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kappa/consumer.h"
#include "tests/groups/member_log.h"

namespace {

struct options {
  std::string bootstrap;
  std::string group;
  std::vector<std::string> topics;
  std::string log_path;
  std::string instance_id;
  std::string client_id = "group-member";
  std::string assignor = "uniform";
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 20000;
  int64_t commit_interval_ms = 500;
  int64_t process_us_per_record = 0;
  int64_t process_ms_per_poll = 0;
  size_t max_poll_records = 500;
  int64_t request_timeout_ms = 5000;
};

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int g_log_fd = 2;

// One write(2) per line on an O_APPEND descriptor: lines from the polling
// thread and commit callbacks never interleave, and a SIGKILL loses nothing
// already logged.
void log_line(const std::string& name, const std::string& rest) {
  std::string line = name + " " + std::to_string(mono_ns());
  if (!rest.empty()) line += " " + rest;
  line += "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(g_log_fd, p, left);
    if (n <= 0) return;
    p += n;
    left -= size_t(n);
  }
}

std::string join_tps(const std::vector<kappa::topic_partition>& tps) {
  std::string out;
  for (const auto& tp : tps) out += (out.empty() ? "" : " ") + kappa_groups::format_tp(tp);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--bootstrap") o.bootstrap = v;
    else if (k == "--group") o.group = v;
    else if (k == "--topics") o.topics = split(v, ',');
    else if (k == "--log") o.log_path = v;
    else if (k == "--instance-id") o.instance_id = v;
    else if (k == "--client-id") o.client_id = v;
    else if (k == "--assignor") o.assignor = v;
    else if (k == "--session-timeout-ms") o.session_timeout_ms = std::atoi(v.c_str());
    else if (k == "--rebalance-timeout-ms") o.rebalance_timeout_ms = std::atoi(v.c_str());
    else if (k == "--commit-interval-ms") o.commit_interval_ms = std::atoll(v.c_str());
    else if (k == "--process-us-per-record") o.process_us_per_record = std::atoll(v.c_str());
    else if (k == "--process-ms-per-poll") o.process_ms_per_poll = std::atoll(v.c_str());
    else if (k == "--max-poll-records") o.max_poll_records = size_t(std::atoll(v.c_str()));
    else if (k == "--request-timeout-ms") o.request_timeout_ms = std::atoll(v.c_str());
    else return false;
  }
  return (argc % 2) == 1 && !o.bootstrap.empty() && !o.group.empty() && !o.topics.empty() && !o.log_path.empty();
}

// The member's processing state: the next offset of each owned partition
// (last processed + 1), and which of them changed since the last commit.
struct member_state {
  std::map<kappa::topic_partition, int64_t> next;
  std::map<kappa::topic_partition, int64_t> committed;
  int64_t seq = 0;

  // Commits the processed offsets of `tps` (all owned when empty) that moved
  // since their last successful commit; logs the attempt and its outcome.
  void commit(kappa::consumer& c, const std::vector<kappa::topic_partition>* tps) {
    std::map<kappa::topic_partition, int64_t> offsets;
    auto consider = [&](const kappa::topic_partition& tp) {
      auto it = next.find(tp);
      if (it == next.end()) return;
      auto done = committed.find(tp);
      if (done != committed.end() && done->second == it->second) return;
      offsets[tp] = it->second;
    };
    if (tps) {
      for (const auto& tp : *tps) consider(tp);
    } else {
      for (const auto& [tp, off] : next) consider(tp);
    }
    if (offsets.empty()) return;
    const int64_t my_seq = ++seq;
    std::string rest = std::to_string(my_seq);
    for (const auto& [tp, off] : offsets) rest += " " + kappa_groups::format_tp(tp) + "=" + std::to_string(off);
    log_line("COMMIT_BEGIN", rest);
    kappa::Status s = c.commit_sync(offsets);
    if (s.ok()) {
      log_line("COMMIT_OK", std::to_string(my_seq));
      for (const auto& [tp, off] : offsets) committed[tp] = off;
    } else {
      log_line("COMMIT_FAIL", std::to_string(my_seq) + " " + std::to_string(s.code().value()) + " " + s.message());
    }
  }

  void forget(const std::vector<kappa::topic_partition>& tps) {
    for (const auto& tp : tps) {
      next.erase(tp);
      committed.erase(tp);
    }
  }
};

std::atomic<bool> g_stop{false};

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: group_member --bootstrap B --group G --topics T[,T] --log FILE [--instance-id I] "
                 "[--client-id C] [--assignor uniform|range] [--session-timeout-ms N] "
                 "[--rebalance-timeout-ms N] [--commit-interval-ms N] [--process-us-per-record N] "
                 "[--process-ms-per-poll N] [--max-poll-records N] [--request-timeout-ms N]\n");
    return 2;
  }
  g_log_fd = ::open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (g_log_fd < 0) {
    std::perror("open log");
    return 2;
  }
  // Blocked here, before the consumer starts its threads (they inherit the
  // mask), so only the signal thread below ever takes SIGTERM/SIGINT.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  log_line("START", std::to_string(::getpid()));

  kappa::consumer_config cfg;
  cfg.client.bootstrap = o.bootstrap;
  cfg.client.request_timeout_ms = o.request_timeout_ms;
  cfg.client.retry_backoff_min_ms = 50;
  cfg.client.retry_backoff_max_ms = 500;
  cfg.client.metadata_max_age_ms = 2000;
  cfg.auto_offset_reset = kappa::offset_reset::earliest;
  cfg.enable_auto_commit = false;
  cfg.group_instance_id = o.instance_id;
  cfg.group_assignor = o.assignor;
  cfg.session_timeout_ms = o.session_timeout_ms;
  cfg.rebalance_timeout_ms = o.rebalance_timeout_ms;
  cfg.max_poll_records = o.max_poll_records;
  cfg.client_id = o.client_id;
  cfg.fetch_max_wait_ms = 200;
  auto created = kappa::consumer::create(cfg);
  if (!created.ok()) {
    log_line("EXIT", "2");
    std::fprintf(stderr, "consumer: %s\n", created.status().message().c_str());
    return 2;
  }
  std::unique_ptr<kappa::consumer> consumer = std::move(created).value();
  kappa::consumer* c = consumer.get();

  std::thread([c, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    g_stop = true;
    c->wakeup();
  }).detach();

  member_state state;
  kappa::rebalance_listener listener;
  listener.on_assigned = [&](kappa::consumer& cons, const std::vector<kappa::topic_partition>& tps) {
    // Logged first: from here on this member may process these partitions.
    // Positions are resolved afterwards and logged with them, which is why
    // the timestamp is taken before the (possibly blocking) position() calls.
    const int64_t ts = mono_ns();
    std::string rest;
    for (const auto& tp : tps) {
      auto pos = cons.position(tp);
      rest += (rest.empty() ? "" : " ") + kappa_groups::format_tp(tp) + "@" +
              std::to_string(pos.ok() ? pos.value() : -1);
    }
    std::string line = "ASSIGNED " + std::to_string(ts) + (rest.empty() ? "" : " " + rest) + "\n";
    (void)!::write(g_log_fd, line.data(), line.size());
  };
  listener.on_revoked = [&](kappa::consumer& cons, const std::vector<kappa::topic_partition>& tps) {
    state.commit(cons, &tps);
    state.forget(tps);
    // Logged last: until here this member still held the partitions.
    log_line("REVOKED", join_tps(tps));
  };
  listener.on_lost = [&](kappa::consumer&, const std::vector<kappa::topic_partition>& tps) {
    log_line("LOST", join_tps(tps));
    state.forget(tps);
  };
  kappa::Status sub = c->subscribe(o.topics, o.group, listener);
  if (!sub.ok()) {
    log_line("EXIT", "2");
    std::fprintf(stderr, "subscribe: %s\n", sub.message().c_str());
    return 2;
  }

  std::string last_member_id;
  int32_t last_epoch = -1;
  auto last_commit = std::chrono::steady_clock::now();
  while (!g_stop) {
    auto polled = c->poll(100);
    const std::string id = c->member_id();
    const int32_t epoch = c->member_epoch();
    if (id != last_member_id || epoch != last_epoch) {
      log_line("MEMBER", (id.empty() ? "-" : id) + " " + std::to_string(epoch));
      last_member_id = id;
      last_epoch = epoch;
    }
    if (!polled.ok()) {
      log_line("POLL_ERROR", std::to_string(polled.status().code().value()) + " " + polled.status().message());
      if (polled.status().code() == kappa::client_errc::closed) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto& records = polled.value();
    if (!records.empty()) {
      log_line("BATCH", std::to_string(records.size()));
      if (o.process_ms_per_poll > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.process_ms_per_poll));
      for (const auto& r : records) {
        if (o.process_us_per_record > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(o.process_us_per_record));
        }
        log_line("R", r.topic + " " + std::to_string(r.partition) + " " + std::to_string(r.offset));
        state.next[{r.topic, r.partition}] = r.offset + 1;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (o.process_ms_per_poll > 0 ? !records.empty()
                                  : now - last_commit >= std::chrono::milliseconds(o.commit_interval_ms)) {
      state.commit(*c, nullptr);
      last_commit = now;
    }
  }
  c->close();  // on_revoked commits what was processed, then the member leaves
  log_line("EXIT", "0");
  consumer.reset();
  ::close(g_log_fd);
  return 0;
}
