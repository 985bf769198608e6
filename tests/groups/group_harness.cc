#include "tests/groups/group_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace kappa_groups {

using namespace std::chrono_literals;

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string member_binary() {
  if (const char* p = std::getenv("GROUP_MEMBER_BINARY")) return p;
  return KAPPA_BINARY_DIR "/tests/groups/group_member";
}

std::vector<std::string> kappad_group_flags(const std::string& kappad) {
  std::string cmd = "'" + kappad + "' --help 2>&1";
  std::string help;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) help.append(buf.data(), n);
    ::pclose(p);
  }
  // Short sessions (the tests use 3 s), quick heartbeats, and a small
  // offsets topic (16 partitions cost startup time and nothing is gained).
  const std::vector<std::pair<std::string, std::string>> wanted = {
      {"--group-min-session-timeout-ms", "1000"},
      {"--group-heartbeat-interval-ms", "250"},
      {"--offsets-topic-partitions", "4"},
  };
  std::vector<std::string> out;
  for (const auto& [flag, value] : wanted) {
    if (help.find(flag + " ") != std::string::npos || help.find(flag + "=") != std::string::npos ||
        help.find(flag + "\n") != std::string::npos) {
      out.push_back(flag);
      out.push_back(value);
    }
  }
  return out;
}

member_process::member_process(const std::string& dir, const std::string& bootstrap, member_spec spec)
    : spec_(std::move(spec)) {
  log_path_ = dir + "/" + spec_.name + ".log";
  std::string topics;
  for (const auto& t : spec_.topics) topics += (topics.empty() ? "" : ",") + t;
  std::vector<std::string> args = {member_binary(),
                                   "--bootstrap", bootstrap,
                                   "--group", spec_.group,
                                   "--topics", topics,
                                   "--log", log_path_,
                                   "--client-id", spec_.name,
                                   "--session-timeout-ms", std::to_string(spec_.session_timeout_ms),
                                   "--rebalance-timeout-ms", std::to_string(spec_.rebalance_timeout_ms),
                                   "--commit-interval-ms", std::to_string(spec_.commit_interval_ms),
                                   "--process-us-per-record", std::to_string(spec_.process_us_per_record),
                                   "--process-ms-per-poll", std::to_string(spec_.process_ms_per_poll),
                                   "--max-poll-records", std::to_string(spec_.max_poll_records)};
  if (!spec_.instance_id.empty()) {
    args.push_back("--instance-id");
    args.push_back(spec_.instance_id);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = dir + "/" + spec_.name + ".out";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

member_process::~member_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool member_process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ > 0;
}

bool member_process::terminate(int timeout_ms) {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    std::this_thread::sleep_for(20ms);
  }
  killed_at_ns_ = mono_ns();
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return false;
}

int64_t member_process::kill() {
  if (pid_ <= 0) return -1;
  killed_at_ns_ = mono_ns();
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return killed_at_ns_;
}

int64_t member_process::pause() {
  const int64_t t = mono_ns();
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
  return t;
}

int64_t member_process::resume() {
  const int64_t t = mono_ns();
  if (pid_ > 0) ::kill(pid_, SIGCONT);
  return t;
}

bool wait_until(const std::function<bool()>& pred, int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

kappa::client_config client_config_for(const std::string& bootstrap) {
  kappa::client_config cfg;
  cfg.bootstrap = bootstrap;
  cfg.request_timeout_ms = 5000;
  cfg.retry_backoff_min_ms = 50;
  cfg.retry_backoff_max_ms = 500;
  cfg.metadata_max_age_ms = 1000;
  return cfg;
}

std::string create_topic(kappa::admin& admin, const std::string& topic, int32_t partitions, int32_t rf,
                         int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last;
  bool created = false;
  while (!created && std::chrono::steady_clock::now() < deadline) {
    auto r = admin.create_topics({{topic, partitions, rf, {}}});
    if (r.ok() && !r.value().empty() &&
        (r.value()[0].status.ok() || r.value()[0].status.code() == kappa::client_errc::topic_already_exists)) {
      created = true;
      break;
    }
    last = r.ok() ? (r.value().empty() ? "no result" : r.value()[0].status.message()) : r.status().message();
    std::this_thread::sleep_for(200ms);
  }
  if (!created) return "create_topics(" + topic + ") kept failing: " + last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = admin.describe_topics({topic});
    if (d.ok() && d.value().size() == 1 && int(d.value()[0].partitions.size()) == partitions) {
      bool all = true;
      for (const auto& p : d.value()[0].partitions) all = all && p.leader_id >= 0 && p.high_watermark >= 0;
      if (all) return "";
    }
    std::this_thread::sleep_for(100ms);
  }
  return "topic " + topic + ": not every partition has a leader";
}

std::string summarize(const kappa::group_description& d) {
  std::string out = "group " + d.group_id + " " + d.state + " epoch " + std::to_string(d.group_epoch) +
                    " assignment_epoch " + std::to_string(d.assignment_epoch) + " coordinator " +
                    std::to_string(d.coordinator_id) + " rebalances " + std::to_string(d.rebalances) + ";";
  for (const auto& m : d.members) {
    out += " [" + m.client_id + " " + m.state + " e" + std::to_string(m.member_epoch) + ":";
    for (const auto& tp : m.assignment) out += " " + format_tp(tp);
    out += "]";
  }
  return out;
}

std::optional<kappa::group_description> wait_group_stable(kappa::admin& admin, const std::string& group,
                                                          size_t members, int partitions, int64_t timeout_ms,
                                                          std::string* last) {
  std::optional<kappa::group_description> found;
  wait_until(
      [&] {
        auto d = admin.describe_group(group);
        if (!d.ok()) {
          if (last) *last = "describe_group: " + d.status().message();
          return false;
        }
        const auto& g = d.value();
        if (last) *last = summarize(g);
        if (g.state != "Stable" || g.members.size() != members) return false;
        std::set<kappa::topic_partition> owned;
        size_t total = 0;
        for (const auto& m : g.members) {
          if (m.state != "Stable") return false;
          for (const auto& tp : m.assignment) owned.insert(tp);
          total += m.assignment.size();
        }
        if (int(owned.size()) != partitions || total != owned.size()) return false;
        found = g;
        return true;
      },
      timeout_ms);
  return found;
}

background_producer::background_producer(const std::string& bootstrap, std::string topic, int32_t partitions,
                                         int records_per_s)
    : topic_(std::move(topic)), partitions_(partitions) {
  kappa::producer_config cfg;
  cfg.client = client_config_for(bootstrap);
  cfg.linger_ms = 1;
  cfg.delivery_timeout_ms = 30000;
  auto p = kappa::producer::create(cfg);
  if (!p.ok()) throw std::runtime_error("producer: " + p.status().message());
  producer_ = std::move(p).value();
  if (records_per_s <= 0) return;
  thread_ = std::thread([this, records_per_s] {
    const auto period = std::chrono::microseconds(1'000'000 / records_per_s);
    auto next = std::chrono::steady_clock::now();
    int64_t seq = 0;
    while (!stop_) {
      const int32_t p = int32_t(seq % partitions_);
      producer_->send({.topic = topic_, .partition = p, .key = std::nullopt, .value = "v" + std::to_string(seq)},
                      [this](const kappa::delivery_report& r) { on_report(r); });
      ++seq;
      next += period;
      std::this_thread::sleep_until(next);
    }
  });
}

background_producer::~background_producer() { stop(); }

void background_producer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (producer_) (void)producer_->flush(30000);
}

bool background_producer::produce_now(int32_t partition, int n) {
  std::vector<std::future<kappa::delivery_report>> futures;
  for (int i = 0; i < n; ++i) {
    futures.push_back(producer_->send({.topic = topic_, .partition = partition, .value = "x" + std::to_string(i)}));
  }
  bool ok = true;
  for (auto& f : futures) {
    auto r = f.get();
    on_report(r);
    ok = ok && r.ok();
  }
  return ok;
}

void background_producer::on_report(const kappa::delivery_report& r) {
  std::lock_guard g(mu_);
  if (r.ok()) {
    produced_[{r.topic, r.partition}].insert(r.offset);
    ++acked_;
    last_ack_ns_ = mono_ns();
  } else {
    ++failed_;
  }
}

int64_t background_producer::acknowledged() const {
  std::lock_guard g(mu_);
  return acked_;
}
int64_t background_producer::failed() const {
  std::lock_guard g(mu_);
  return failed_;
}
int64_t background_producer::last_ack_ns() const {
  std::lock_guard g(mu_);
  return last_ack_ns_;
}
std::map<kappa::topic_partition, std::set<int64_t>> background_producer::produced() const {
  std::lock_guard g(mu_);
  return produced_;
}

std::map<kappa::topic_partition, int64_t> high_watermarks(kappa::admin& admin, const std::string& topic,
                                                          int32_t partitions) {
  std::vector<std::pair<kappa::topic_partition, int64_t>> specs;
  for (int32_t p = 0; p < partitions; ++p) specs.push_back({{topic, p}, kappa::kLatestOffsetSpec});
  std::map<kappa::topic_partition, int64_t> out;
  auto r = admin.list_offsets(specs);
  if (!r.ok()) return out;
  for (const auto& o : r.value()) {
    if (o.status.ok()) out[o.tp] = o.offset;
  }
  return out;
}

std::map<kappa::topic_partition, std::set<int64_t>> processed(const std::vector<member_history>& members) {
  std::map<kappa::topic_partition, std::set<int64_t>> out;
  for (const auto& m : members) {
    for (const auto& e : m.log.events) {
      if (e.kind == event_kind::record) out[e.tp].insert(e.offset);
    }
  }
  return out;
}

std::string dump_logs(const std::vector<member_history>& members, size_t lines) {
  std::string out;
  for (const auto& m : members) {
    out += "---- member " + m.log.name + (m.killed_at_ns >= 0 ? " (killed at " + std::to_string(m.killed_at_ns) + ")" : "") +
           ", " + std::to_string(m.log.events.size()) + " events, last non-record ones:\n";
    std::vector<const log_event*> picked;
    for (auto it = m.log.events.rbegin(); it != m.log.events.rend() && picked.size() < lines; ++it) {
      if (it->kind != event_kind::record) picked.push_back(&*it);
    }
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) out += "  " + describe(**it) + "\n";
    for (const auto& b : m.log.bad_lines) out += "  (unparsed) " + b + "\n";
  }
  return out;
}

}  // namespace kappa_groups
