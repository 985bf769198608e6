// Loopback ports for tests that must know a server's address before it starts.
//
// Contract: unused_port() returns a TCP port on 127.0.0.1 that nothing was
// bound to a moment ago, taken from BELOW the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range). The kernel never hands those
// ports to bind(port 0) or to outgoing connections, so a port chosen here
// cannot be taken in the meantime by another test's client socket, and it
// stays ours while a broker that owns it is down (SIGKILL, restart). Two
// calls in one process never return the same port. Ports are drawn at random,
// so concurrent test processes (ctest -j) rarely collide, and each candidate
// is checked by binding it. Throws std::runtime_error if none is found.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace kappa::test {

inline bool loopback_port_bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline int unused_port() {
  static std::mutex mu;
  static std::set<int> handed_out;
  static std::mt19937 rng(uint32_t(::getpid()) * 2654435761u ^
                          uint32_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  int ephemeral_low = 32768;
  if (std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range"); in) in >> ephemeral_low;
  const int lo = 10000;
  const int hi = ephemeral_low - 1;
  if (hi <= lo) throw std::runtime_error("unused_port: no ports below the ephemeral range");
  std::uniform_int_distribution<int> pick(lo, hi);
  std::lock_guard g(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(rng);
    if (handed_out.count(port) || !loopback_port_bindable(port)) continue;
    handed_out.insert(port);
    return port;
  }
  throw std::runtime_error("unused_port: no free loopback port found in 1000 attempts");
}

}  // namespace kappa::test
