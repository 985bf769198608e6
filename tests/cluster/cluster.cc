#include "tests/cluster/cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "tests/support/ports.h"

namespace kappa_cluster {
namespace {

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Whether `kappad --help` lists `flag` (flags of kappad in progress vary).
bool binary_has_flag(const std::string& binary, const std::string& flag) {
  std::string cmd = "'" + binary + "' --help 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return false;
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out.find(flag) != std::string::npos;
}

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

std::string kappad_binary() {
  if (const char* p = std::getenv("KAPPAD_BINARY")) return p;
  return KAPPA_BINARY_DIR "/broker/kappad";
}

cluster::cluster(cluster_options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/kappa-cluster-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  binary_ = kappad_binary();
  advertise_flag_ = binary_has_flag(binary_, "--advertised-internal-listen");
  if (std::getenv("KAPPA_KEEP_CLUSTER")) keep_ = true;
  proxy_ = std::make_unique<link_proxy>([this] { return pids(); });
  for (int id = 1; id <= options_.nodes; ++id) {
    node n;
    n.id = id;
    n.client_port = kappa::test::unused_port();
    n.internal_port = kappa::test::unused_port();
    n.metrics_port = kappa::test::unused_port();
    n.proxy_port = proxy_->add_node(id, n.internal_port);
    nodes_.push_back(n);
    std::filesystem::create_directories(data_dir(id));
  }
}

cluster::~cluster() {
  for (auto& n : nodes_) {
    if (n.pid > 0) {
      ::kill(n.pid, SIGKILL);
      reap(n, true);
    }
  }
  proxy_.reset();
  if (keep_) {
    std::fprintf(stderr, "cluster: kept %s (data and kappad logs)\n", dir_.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

cluster::node& cluster::at(int id) {
  if (id < 1 || id > size()) throw std::out_of_range("no broker " + std::to_string(id));
  return nodes_[size_t(id - 1)];
}
const cluster::node& cluster::at(int id) const {
  if (id < 1 || id > size()) throw std::out_of_range("no broker " + std::to_string(id));
  return nodes_[size_t(id - 1)];
}

std::string cluster::client_address(int id) const { return loopback(at(id).client_port); }
std::string cluster::data_dir(int id) const { return dir_ + "/" + std::to_string(id) + "/data"; }
std::string cluster::log_path(int id) const { return dir_ + "/" + std::to_string(id) + "/kappad.log"; }

std::string cluster::bootstrap() const {
  std::string out;
  for (const auto& n : nodes_) out += (out.empty() ? "" : ",") + loopback(n.client_port);
  return out;
}

std::vector<std::pair<int, pid_t>> cluster::pids() const {
  std::lock_guard g(pid_mu_);
  std::vector<std::pair<int, pid_t>> out;
  for (const auto& n : nodes_) {
    if (n.pid > 0) out.emplace_back(n.id, n.pid);
  }
  return out;
}

void cluster::start(int id) {
  node& n = at(id);
  if (n.pid > 0) reap(n, false);
  if (n.pid > 0) return;  // still running
  std::string voters;
  const int voter_count = options_.voters > 0 ? options_.voters : size();
  for (const auto& v : nodes_) {
    if (v.id > voter_count) break;
    voters += (voters.empty() ? "" : ",") + std::to_string(v.id) + "@" + loopback(v.proxy_port);
  }
  std::vector<std::string> args = {binary_,
                                   "--node-id", std::to_string(id),
                                   "--listen", loopback(n.client_port),
                                   "--internal-listen", loopback(n.internal_port),
                                   "--metrics-listen", loopback(n.metrics_port),
                                   "--controller-voters", voters,
                                   "--data-dir", data_dir(id)};
  if (options_.default_replication_factor > 0) {
    args.push_back("--default-replication-factor");
    args.push_back(std::to_string(options_.default_replication_factor));
  }
  if (advertise_flag_) {
    args.push_back("--advertised-internal-listen");
    args.push_back(loopback(n.proxy_port));
  }
  if (options_.power_loss) args.push_back("--test-power-loss");
  for (const auto& f : options_.extra_flags) args.push_back(f);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = log_path(id);
  {
    std::ofstream out(log, std::ios::app);
    out << "==== cluster: starting broker " << id << ":";
    for (const auto& a : args) out << " " << a;
    out << "\n";
  }
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test process, even one killed by a ctest timeout.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::lock_guard g(pid_mu_);
  n.pid = pid;
}

void cluster::start_all() {
  for (const auto& n : nodes_) start(n.id);
}

void cluster::reap(node& n, bool block) {
  if (n.pid <= 0) return;
  int status = 0;
  pid_t r = ::waitpid(n.pid, &status, block ? 0 : WNOHANG);
  if (r == n.pid) {
    std::lock_guard g(pid_mu_);
    n.pid = -1;
  }
}

void cluster::kill(int id, int sig) {
  node& n = at(id);
  if (n.pid <= 0) return;
  ::kill(n.pid, sig);
  if (sig == SIGKILL) reap(n, true);
}

void cluster::kill_all() {
  // Near-simultaneous: signal everyone first, then reap.
  for (auto& n : nodes_) {
    if (n.pid > 0) ::kill(n.pid, SIGKILL);
  }
  for (auto& n : nodes_) reap(n, true);
}

void cluster::pause(int id) { kill(id, SIGSTOP); }
void cluster::resume(int id) { kill(id, SIGCONT); }

bool cluster::stop(int id, int timeout_ms) {
  node& n = at(id);
  if (n.pid <= 0) return true;
  ::kill(n.pid, SIGCONT);
  ::kill(n.pid, SIGTERM);
  const pid_t pid = n.pid;
  int status = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::lock_guard g(pid_mu_);
      n.pid = -1;
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  reap(n, true);
  return false;
}

bool cluster::running(int id) {
  node& n = at(id);
  reap(n, false);
  return n.pid > 0;
}

bool cluster::wait_listening(const std::vector<int>& ids, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int id : ids) {
    while (!port_open(at(id).client_port)) {
      if (!running(id) || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

std::string cluster::log_tail(int id, int lines) const {
  std::ifstream in(log_path(id));
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (int(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

std::string cluster::describe_logs(int lines) const {
  std::string out;
  for (const auto& n : nodes_) {
    out += "---- broker " + std::to_string(n.id) + " (" + log_path(n.id) + "), last " +
           std::to_string(lines) + " lines:\n" + log_tail(n.id, lines);
  }
  return out;
}

}  // namespace kappa_cluster
