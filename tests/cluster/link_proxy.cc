#include "tests/cluster/link_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kappa_cluster {
namespace {

constexpr int kPollMs = 20;
constexpr size_t kBufBytes = 64 << 10;

std::pair<int, int> key(int a, int b) { return {std::min(a, b), std::max(a, b)}; }

void abort_socket(int fd) {
  linger l{1, 0};  // close with RST: the peer sees a reset, not a clean end
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

int local_port(int fd, bool peer) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return rc == 0 ? ntohs(a.sin_port) : -1;
}

// The inode of the socket whose local port is `port` and remote port is
// `remote_port` (both on loopback), from /proc/net/tcp{,6}; 0 if absent.
unsigned long socket_inode(int port, int remote_port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string slot, local, remote, st, queues, tr, retr, uid, timeout;
      unsigned long inode = 0;
      ls >> slot >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
      auto port_of = [](const std::string& addr) {
        auto colon = addr.rfind(':');
        return colon == std::string::npos ? -1 : int(std::stoul(addr.substr(colon + 1), nullptr, 16));
      };
      if (port_of(local) == port && port_of(remote) == remote_port) return inode;
    }
  }
  return 0;
}

bool process_has_socket(pid_t pid, unsigned long inode) {
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    char buf[64];
    ssize_t n = ::readlink(e.path().c_str(), buf, sizeof buf - 1);
    if (n > 0 && std::string_view(buf, size_t(n)) == want) return true;
  }
  return false;
}

int connect_to(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  a.sin_port = htons(uint16_t(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

const char* to_string(link_state s) {
  switch (s) {
    case link_state::up: return "up";
    case link_state::reset: return "reset";
    case link_state::stall: return "stall";
  }
  return "?";
}

struct link_proxy::listener {
  int to = 0;
  int target_port = 0;
  std::string target_host;
  int fd = -1;
  int port = 0;
};

struct link_proxy::connection {
  int from = 0;  // 0 = unknown process
  int to = 0;
  int client = -1;
  int upstream = -1;
  std::atomic<bool> done{false};
};

link_proxy::link_proxy(std::function<std::vector<std::pair<int, pid_t>>()> pids)
    : pids_(std::move(pids)) {}

link_proxy::~link_proxy() {
  stop_ = true;
  for (auto& t : listener_threads_) t.join();  // after this, no thread is added
  for (auto& t : threads_) t.join();
  for (auto& l : listeners_) ::close(l->fd);
}

int link_proxy::add_node(int to, int target_port, int listen_port, const std::string& target_host) {
  auto l = std::make_unique<listener>();
  l->to = to;
  l->target_port = target_port;
  l->target_host = target_host;
  l->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_port != 0) ::setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(listen_port));
  if (::bind(l->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l->fd, 64) != 0) {
    throw std::runtime_error(std::string("link_proxy: cannot listen: ") + std::strerror(errno));
  }
  l->port = local_port(l->fd, false);
  listener* raw = l.get();
  std::lock_guard g(mu_);
  listeners_.push_back(std::move(l));
  listener_threads_.emplace_back([this, raw] { accept_loop(raw); });
  return raw->port;
}

void link_proxy::set_link(int a, int b, link_state s) {
  std::lock_guard g(mu_);
  links_[key(a, b)] = s;
}

void link_proxy::isolate(int node, link_state s) {
  std::lock_guard g(mu_);
  for (const auto& l : listeners_) {
    if (l->to != node) links_[key(node, l->to)] = s;
  }
}

void link_proxy::heal_all() {
  std::lock_guard g(mu_);
  links_.clear();
}

link_state link_proxy::state(int a, int b) const {
  if (a == 0 || b == 0) return link_state::up;
  std::lock_guard g(mu_);
  auto it = links_.find(key(a, b));
  return it == links_.end() ? link_state::up : it->second;
}

int link_proxy::open_connections(int from, int to) const {
  std::lock_guard g(mu_);
  int n = 0;
  for (const auto& c : conns_) n += (c->from == from && c->to == to && !c->done) ? 1 : 0;
  return n;
}

uint64_t link_proxy::bytes_between(int a, int b) const {
  std::lock_guard g(mu_);
  auto it = bytes_.find(key(a, b));
  return it == bytes_.end() ? 0 : it->second;
}

int link_proxy::identify(int client_fd) {
  const int port = local_port(client_fd, true);  // the connecting socket's own port
  const int proxy_port = local_port(client_fd, false);
  for (int attempt = 0; attempt < 20; ++attempt) {
    unsigned long inode = socket_inode(port, proxy_port);
    if (inode != 0) {
      for (const auto& [id, pid] : pids_()) {
        if (process_has_socket(pid, inode)) return id;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

void link_proxy::accept_loop(listener* l) {
  while (!stop_) {
    pollfd p{l->fd, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int fd = ::accept4(l->fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto c = std::make_shared<connection>();
    c->to = l->to;
    c->client = fd;
    const int target = l->target_port;
    const std::string host = l->target_host;
    std::lock_guard g(mu_);
    conns_.insert(c);
    threads_.emplace_back([this, c, target, host] {
      c->from = identify(c->client);
      c->upstream = connect_to(host, target);
      pump(c);
    });
  }
}

// Moves bytes both ways with one buffer per direction, honouring the link
// state on every round.
void link_proxy::pump(std::shared_ptr<connection> c) {
  struct dir {
    int in, out;
    std::vector<char> buf;
    size_t off = 0, len = 0;
    bool eof = false;
  };
  dir d[2] = {{c->client, c->upstream, std::vector<char>(kBufBytes)},
              {c->upstream, c->client, std::vector<char>(kBufBytes)}};
  bool broken = c->upstream < 0;
  while (!stop_ && !broken) {
    const link_state s = state(c->from, c->to);
    if (s == link_state::reset) break;
    if (s == link_state::stall) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      continue;
    }
    pollfd p[4];
    int n = 0;
    int idx[2][2] = {{-1, -1}, {-1, -1}};
    for (int i = 0; i < 2; ++i) {
      if (d[i].len == 0 && !d[i].eof) {
        idx[i][0] = n;
        p[n++] = {d[i].in, POLLIN, 0};
      } else if (d[i].len > 0) {
        idx[i][1] = n;
        p[n++] = {d[i].out, POLLOUT, 0};
      }
    }
    if (n == 0) break;  // both directions ended
    if (::poll(p, nfds_t(n), kPollMs) <= 0) continue;
    for (int i = 0; i < 2 && !broken; ++i) {
      if (idx[i][0] >= 0 && p[idx[i][0]].revents) {
        ssize_t r = ::recv(d[i].in, d[i].buf.data(), d[i].buf.size(), MSG_DONTWAIT);
        if (r > 0) {
          d[i].off = 0;
          d[i].len = size_t(r);
        } else if (r == 0) {
          d[i].eof = true;
          ::shutdown(d[i].out, SHUT_WR);
        } else if (errno != EAGAIN && errno != EINTR) {
          broken = true;
        }
      }
      if (idx[i][1] >= 0 && p[idx[i][1]].revents) {
        ssize_t w = ::send(d[i].out, d[i].buf.data() + d[i].off, d[i].len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
          d[i].off += size_t(w);
          d[i].len -= size_t(w);
          std::lock_guard g(mu_);
          bytes_[key(c->from, c->to)] += uint64_t(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          broken = true;
        }
      }
    }
    if (d[0].eof && d[1].eof && d[0].len == 0 && d[1].len == 0) break;
  }
  c->done = true;
  abort_socket(c->client);
  if (c->upstream >= 0) abort_socket(c->upstream);
  std::lock_guard g(mu_);
  conns_.erase(c);
}

}  // namespace kappa_cluster
