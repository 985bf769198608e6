// link_proxy: a fault-injecting TCP proxy in the test process, one listener
// in front of each broker's internal (broker-to-broker) listener. Brokers are
// told that their peers live at the proxy ports, so every Raft and
// controller connection between two brokers crosses it, and the test can cut
// or stall each pair of brokers separately, as a network partition would.
//
// Which broker opened a connection is not in the bytes (gRPC over HTTP/2);
// the proxy finds it from the kernel: the connecting socket's port in
// /proc/net/tcp gives its inode, and /proc/<pid>/fd of each broker process
// tells whose it is. A connection from an unknown process (node 0) is never
// cut.
//
// Link states, per unordered pair of nodes:
// - up: bytes flow.
// - reset: existing connections are aborted (RST) and new ones closed at
//   once; peers see errors quickly.
// - stall: no byte moves in either direction (connections stay open, new
//   ones are accepted but carry nothing): packets vanish, as on a real
//   partition; when the link comes back, what was queued flows on.
//
// Thread safety: every method may be called from any thread. One thread per
// listener and one per connection (a cluster has a handful).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kappa_cluster {

enum class link_state { up, reset, stall };

class link_proxy {
 public:
  // pids() returns the current (node id, pid) of every running broker.
  explicit link_proxy(std::function<std::vector<std::pair<int, pid_t>>()> pids);
  ~link_proxy();
  link_proxy(const link_proxy&) = delete;
  link_proxy& operator=(const link_proxy&) = delete;

  // Opens a listener on 127.0.0.1:listen_port (0 = a free port; the port is
  // returned) forwarding to target_host:target_port, the internal listener
  // of node `to`. A fixed listen_port is bound with SO_REUSEPORT, so it may
  // share its port with a broker listening on 0.0.0.0 (see cluster.h).
  int add_node(int to, int target_port, int listen_port = 0,
               const std::string& target_host = "127.0.0.1");

  void set_link(int a, int b, link_state s);
  // Every link of `node` to every other node.
  void isolate(int node, link_state s = link_state::stall);
  void heal_all();
  link_state state(int a, int b) const;

  // Connections currently open from node `from` to node `to` through the
  // proxy (0 when the brokers bypass it).
  int open_connections(int from, int to) const;
  // Bytes forwarded so far between a and b, both directions.
  uint64_t bytes_between(int a, int b) const;

 private:
  struct listener;
  struct connection;
  void accept_loop(listener* l);
  void pump(std::shared_ptr<connection> c);
  int identify(int client_fd);

  std::function<std::vector<std::pair<int, pid_t>>()> pids_;
  mutable std::mutex mu_;
  std::map<std::pair<int, int>, link_state> links_;  // key: (min, max)
  std::map<std::pair<int, int>, uint64_t> bytes_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::set<std::shared_ptr<connection>> conns_;
  std::vector<std::thread> listener_threads_;
  std::vector<std::thread> threads_;  // one per connection; joined at destruction
  std::atomic<bool> stop_{false};
};

const char* to_string(link_state s);

}  // namespace kappa_cluster
