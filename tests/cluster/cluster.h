// cluster: N real kappad processes on 127.0.0.1 for the fault suite — free
// ports, a temp directory per cluster (data, logs), brokers 1..voters
// controller voters (default: every broker), and a link_proxy in front of each internal listener.
//
// Broker-to-broker traffic must cross the proxy, also after brokers learn
// each other's internal address from the controller's metadata (which holds
// the address each broker registered). So broker i listens on 127.0.0.1:R_i,
// --controller-voters names the proxy ports, and, when kappad has the flag,
// --advertised-internal-listen registers its proxy's port. Without that flag
// brokers end up dialing each other's real ports and link faults miss them.
// (An earlier trick, broker on 0.0.0.0:R and proxy on 127.0.0.1:R sharing
// the port through SO_REUSEPORT, stopped working once kappad turned
// SO_REUSEPORT off to detect busy ports.)
// The network-fault tests check that every pair has a proxied connection.
//
// Faults: kill (any signal; SIGKILL by default), pause/resume (SIGSTOP /
// SIGCONT), start again on the same ports and data, stop (SIGTERM, clean),
// net() for link cuts. The directory is removed at destruction unless
// keep() was called (a failing test keeps it for its logs) or
// KAPPA_KEEP_CLUSTER is set.
//
// Thread safety: one test thread drives a cluster; pids() (for the proxy)
// may be called from any thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/cluster/link_proxy.h"

namespace kappa_cluster {

struct cluster_options {
  int nodes = 3;
  int voters = 0;             // brokers 1..voters are controller voters; 0 = every broker
  int initially_started = 0;  // run_rounds starts brokers 1..this first; 0 = every broker
  bool power_loss = false;           // --test-power-loss on every broker
  int default_replication_factor = 0;  // 0 = kappad's default (topics here name theirs)
  std::vector<std::string> extra_flags;
};

// The kappad to run: $KAPPAD_BINARY, else <build>/broker/kappad.
std::string kappad_binary();

class cluster {
 public:
  explicit cluster(cluster_options options);
  ~cluster();  // SIGKILLs what still runs
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  int size() const { return int(nodes_.size()); }
  void start(int id);
  void start_all();
  // Sends `sig`; for SIGKILL also reaps the process (it is then down).
  void kill(int id, int sig = 9);
  void kill_all();
  void pause(int id);
  void resume(int id);
  // SIGCONT + SIGTERM, waits up to timeout_ms for the exit; SIGKILL after.
  // Returns whether it exited cleanly (status 0) in time.
  bool stop(int id, int timeout_ms = 20000);
  bool running(int id);  // started and not exited (a paused broker runs)

  // True once every listed broker's client port accepts connections.
  bool wait_listening(const std::vector<int>& ids, int timeout_ms);

  std::string client_address(int id) const;
  std::string bootstrap() const;  // every broker's client address
  std::string data_dir(int id) const;
  std::string log_path(int id) const;
  std::string log_tail(int id, int lines) const;
  std::string describe_logs(int lines) const;  // every broker's log tail
  const std::string& dir() const { return dir_; }
  link_proxy& net() { return *proxy_; }
  std::vector<std::pair<int, pid_t>> pids() const;
  // Whether brokers were told to advertise their proxy port.
  bool advertises_proxy() const { return advertise_flag_; }
  void keep() { keep_ = true; }

 private:
  struct node {
    int id = 0;
    int client_port = 0, internal_port = 0, metrics_port = 0, proxy_port = 0;
    pid_t pid = -1;
  };
  node& at(int id);
  const node& at(int id) const;
  void reap(node& n, bool block);

  cluster_options options_;
  std::string dir_;
  std::string binary_;
  bool advertise_flag_ = false;
  bool keep_ = false;
  std::vector<node> nodes_;
  mutable std::mutex pid_mu_;
  std::unique_ptr<link_proxy> proxy_;
};

}  // namespace kappa_cluster
