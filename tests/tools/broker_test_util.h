// Helpers for tests that run kappactl and kappa-bench against a real kappad:
// a kappad child process on free 127.0.0.1 ports with a temp data dir, and
// running a tool with stdin, extra environment and a time limit. Every wait
// is bounded; a child past its limit is SIGKILLed and the test fails.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "tests/support/ports.h"
#include "tests/tools/tool_test_util.h"

namespace kappa::tools_test {

inline const std::string kKappad = KAPPA_BINARY_DIR "/broker/kappad";


inline bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Spawns `argv` with stdin/stdout/stderr redirected to files (empty path:
// /dev/null for stdin) and `env` appended to this process's environment.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& in_path,
                   const std::string& out_path, const std::string& err_path,
                   const std::vector<std::string>& env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.empty() ? "/dev/null" : in_path.c_str(),
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

// Waits up to timeout_s for `pid`; SIGKILLs it after. Returns the exit code
// (128 + signal for a signalled child), or -1 when it had to be killed.
inline int wait_bounded(pid_t pid, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs a tool to completion (at most timeout_s) with `input` on stdin.
inline run_result run_tool(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& input = "", const std::vector<std::string>& env = {},
                           double timeout_s = 120) {
  temp_dir io;
  std::string in_path = io / "stdin";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, in_path, io / "stdout", io / "stderr", env);
  run_result r;
  r.exit_code = wait_bounded(pid, timeout_s);
  r.out = read_file(io / "stdout");
  r.err = read_file(io / "stderr");
  return r;
}

// A kappad on free ports of 127.0.0.1 with a temp data dir; SIGTERM (then
// SIGKILL) on destruction.
class kappad_process {
 public:
  kappad_process() {
    REQUIRE(std::filesystem::exists(kKappad));
    port_ = kappa::test::unused_port();
    metrics_port_ = kappa::test::unused_port();
    std::vector<std::string> argv{kKappad,
                                  "--listen",
                                  address(),
                                  "--data-dir",
                                  dir_ / "data",
                                  "--metrics-listen",
                                  "127.0.0.1:" + std::to_string(metrics_port_),
                                  "--log-level",
                                  "warn"};
    pid_ = spawn(argv, "", dir_ / "kappad.out", dir_ / "kappad.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!can_connect(port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("kappad exited at start: " << log());
      }
      if (std::chrono::steady_clock::now() > deadline)
        FAIL("kappad did not listen within 30 s: " << log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~kappad_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (wait_bounded(pid_, 20) < 0) WARN("kappad did not exit within 20 s of SIGTERM");
    }
  }
  kappad_process(const kappad_process&) = delete;
  kappad_process& operator=(const kappad_process&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string data_dir() const { return dir_ / "data"; }
  // The data dir is <base_dir>/data, as ./data is for `make run`.
  const std::string& base_dir() const { return dir_.path(); }
  std::string log() const { return read_file(dir_ / "kappad.log"); }

 private:
  temp_dir dir_;
  int port_ = 0;
  int metrics_port_ = 0;
  pid_t pid_ = -1;
};

// kappactl against `k`.
inline run_result ctl(const kappad_process& k, std::vector<std::string> args,
                      const std::string& input = "") {
  args.push_back("--bootstrap");
  args.push_back(k.address());
  return run_tool(kKappactl, args, input);
}

// Each partition's latest offset (the log end), indexed by partition, from
// `kappactl offsets -o json`. A partition's log does not start empty: every
// Raft leader term appends a one-offset control batch (LEADER_CHANGE), which
// consumers skip. So tests take the offset the next record gets from here
// instead of assuming 0.
inline std::vector<int64_t> latest_offsets(const kappad_process& k, const std::string& topic) {
  run_result r = ctl(k, {"offsets", topic, "--output", "json"});
  INFO("offsets " << topic << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<int64_t> latest;
  const std::string needle = "{\"partition\":";
  for (size_t at = r.out.find(needle); at != std::string::npos; at = r.out.find(needle, at + 1)) {
    std::string object = r.out.substr(at + 1, r.out.find('}', at) - at - 1);
    REQUIRE(std::stoll(json_field(object, "partition")) == static_cast<int64_t>(latest.size()));
    std::string l = json_field(object, "latest");
    REQUIRE(!l.empty());
    latest.push_back(std::stoll(l));
  }
  REQUIRE(!latest.empty());
  return latest;
}

// Now as ISO-8601 UTC with milliseconds.
inline std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace kappa::tools_test
