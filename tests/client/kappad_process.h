// A real kappad child process on 127.0.0.1 (a free port, a temp data dir)
// for libkappa tests; SIGTERM (then SIGKILL after 10 s) on destruction.
#pragma once

#include "tests/support/ports.h"
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace kappa_test {

inline std::string kappad_binary() {
  if (const char* p = std::getenv("KAPPAD_BINARY")) return p;
  return KAPPA_BINARY_DIR "/broker/kappad";
}

class kappad_child {
 public:
  explicit kappad_child(const std::string& binary) {
    char dir_template[] = "/tmp/kappa-client-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    address_ = "127.0.0.1:" + std::to_string(kappa::test::unused_port());
    const std::string metrics = "127.0.0.1:" + std::to_string(kappa::test::unused_port());
    const std::string data = dir_ + "/data";
    const std::string log = dir_ + "/kappad.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(binary.c_str(), binary.c_str(), "--listen", address_.c_str(), "--data-dir",
              data.c_str(), "--metrics-listen", metrics.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  // SIGTERM, then waits up to timeout_ms for a clean exit (status 0).
  // Returns whether it came; the destructor SIGKILLs it otherwise.
  bool terminate_within(int timeout_ms) {
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int waited_ms = 0; waited_ms <= timeout_ms; waited_ms += 50) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  ~kappad_child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      bool exited = false;
      for (int i = 0; i < 100 && !exited; ++i) {  // at most 10 s
        exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!exited) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  kappad_child(const kappad_child&) = delete;
  kappad_child& operator=(const kappad_child&) = delete;
  const std::string& address() const { return address_; }
  std::string log() const { return dir_ + "/kappad.log"; }

 private:
  pid_t pid_ = -1;
  std::string dir_;
  std::string address_;
};

}  // namespace kappa_test
