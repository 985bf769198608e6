#include "broker/partition_manager.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "broker/errc.h"
#include "broker/metrics.h"
#include "broker/partition_manager_impl.h"
#include "broker/runtime.h"
#include "storage/power_loss_env.h"

namespace kappa::broker {
namespace {

// Holds port 0's pick until the internal gRPC server has bound it: gRPC binds
// with SO_REUSEPORT, so binding the same port again beside this (never
// listening) socket works, and no other process can take the port between
// the pick and the bind. The one-node controller needs its voter address
// before the server that serves it can be built.
struct port_reservation {
  int fd = -1;
  ~port_reservation() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::string> resolve_internal_address(const std::string& listen, port_reservation& r) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return error(errc::invalid_request, "--internal-listen must be host:port, got " + listen);
  }
  const std::string host = listen.substr(0, colon);
  if (listen.substr(colon + 1) != "0") return listen;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return error(errc::invalid_request,
                 "--internal-listen with port 0 needs an IPv4 address, got " + listen);
  }
  r.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  if (r.fd < 0 || ::setsockopt(r.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      ::setsockopt(r.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(r.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return error(errc::invalid_request, "cannot pick a free port for --internal-listen " + listen);
  }
  socklen_t len = sizeof addr;
  if (::getsockname(r.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return error(errc::invalid_request, "cannot pick a free port for --internal-listen " + listen);
  }
  return host + ":" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace

std::string partition_dir(const std::string& data_dir, const storage::partition_id& id) {
  return data_dir + "/" + id.dir_name();
}

std::string topic_id_marker(const std::string& data_dir, const storage::partition_id& id) {
  return partition_dir(data_dir, id) + "/topic_id";
}

Status as_broker_status(const Status& st) {
  if (st.ok() || st.code().category() == error_category()) return st;
  if (std::string_view(st.code().category().name()) == "kappa.controller") {
    return error(errc(st.code().value()), st.message());
  }
  return st;
}

partition_manager::partition_manager(const broker_config& config, metrics& m)
    : config_(config), metrics_(m) {
  int workers = config.worker_threads > 0 ? config.worker_threads
                                          : int(std::max(1u, std::thread::hardware_concurrency()));
  rt_ = std::make_unique<runtime>(workers, config.flush_threads);
  impl_ = std::make_unique<impl>();
  impl_->self = this;
}

partition_manager::~partition_manager() {
  if (!impl_->closed) (void)close();
}

Result<std::unique_ptr<partition_manager>> partition_manager::open(const broker_config& config,
                                                                   metrics& m) {
  std::unique_ptr<partition_manager> pm(new partition_manager(config, m));
  impl& i = *pm->impl_;
  storage::env& base = storage::posix_env();
  KAPPA_RETURN_IF_ERROR(base.create_dirs(config.data_dir + "/__kappa"));
  i.env = &base;
  if (config.test_power_loss) {
    spdlog::warn("--test-power-loss: unsynced writes are lost when this process is killed");
    i.power_loss_env = storage::make_power_loss_env(base, config.data_dir + "/__kappa");
    i.env = i.power_loss_env.get();
  }
  storage::log_manager_options opts;
  opts.default_config = storage_config_for(config.default_log);
  KAPPA_ASSIGN_OR_RETURN(i.logs, storage::log_manager::open(*i.env, config.data_dir, opts));

  // Cluster membership: the controller voters (empty = this node alone).
  port_reservation reservation;
  KAPPA_ASSIGN_OR_RETURN(i.internal_address,
                         resolve_internal_address(config.internal_listen, reservation));
  std::vector<controller::voter> voters;
  if (!config.controller_voters.empty()) {
    auto parsed = controller::parse_voters(config.controller_voters);
    if (!parsed.ok()) {
      return error(errc::invalid_request, "--controller-voters: " + parsed.status().message());
    }
    voters = std::move(parsed).value();
  } else {
    voters.push_back({config.node_id, i.internal_address});
  }

  replication::grpc_transport_options topts;
  topts.self = raft::node_id(uint64_t(config.node_id));
  topts.cluster_id = config.cluster_id;
  impl* ip = &i;
  i.transport = replication::grpc_transport::create(
          topts, [ip](const replication::group_name& group, raft::message msg) {
            if (group == replication::kControllerGroup) {
              if (auto* c = ip->ctl_ptr.load(std::memory_order_acquire)) c->step(std::move(msg));
              return;
            }
            auto id = storage::partition_id::parse(group);
            if (!id) return;
            std::shared_ptr<partition> p;
            {
              std::shared_lock lk(ip->mu);
              auto it = ip->partitions.find(*id);
              if (it != ip->partitions.end()) p = it->second;
            }
            // A replica not created yet misses the message; Raft resends.
            if (p) p->step(std::move(msg));
          });
  for (const auto& v : voters) {
    if (v.id == config.node_id) continue;
    i.transport->set_peer({raft::node_id(uint64_t(v.id)), v.internal_address});
    i.peers.insert(v.id);
  }

  controller::controller_options copts;
  copts.self = config.node_id;
  copts.cluster_id = config.cluster_id;
  copts.client_address = config.advertised_listen.empty() ? config.listen : config.advertised_listen;
  copts.internal_address = i.internal_address;
  copts.voters = voters;
  copts.data_dir = config.data_dir;  // the controller keeps its log in __kappa/controller/
  copts.env = i.env;
  copts.durable = true;
  runtime* rt = pm->rt_.get();
  auto strand = std::make_shared<strand_t>(asio::make_strand(rt->workers.get_executor()));
  KAPPA_ASSIGN_OR_RETURN(
      i.ctl, controller::controller::start(
                 copts, [strand](std::function<void()> f) { asio::post(*strand, std::move(f)); },
                 [rt](std::function<void()> f) { asio::post(rt->flushers, std::move(f)); },
                 *i.transport));
  i.ctl_ptr.store(i.ctl.get(), std::memory_order_release);
  i.ctl->set_leader_reporter([ip] {
    std::vector<controller::leader_entry> out;
    std::shared_lock lk(ip->mu);
    for (const auto& [id, p] : ip->partitions) {
      auto st = p->raft_status();
      const int32_t self_id = ip->self->config_.node_id;
      // in_sync is only computed by a leader (not one that stepped down and
      // still names itself): report only then, with its in-sync set, so
      // every broker can show it from the controller's leader table.
      if (st.leader != raft::node_id(uint64_t(self_id)) || st.role != raft::role::leader) continue;
      controller::leader_entry e;
      e.topic = id.topic;
      e.partition = id.partition;
      e.leader = self_id;
      e.epoch = int64_t(st.term.value);
      for (auto n : st.in_sync) e.in_sync.push_back(int32_t(n.value));
      // A leader is always in its own in-sync set.
      if (std::find(e.in_sync.begin(), e.in_sync.end(), self_id) == e.in_sync.end()) {
        e.in_sync.push_back(self_id);
      }
      out.push_back(std::move(e));
    }
    return out;
  });
  i.ctl->on_image([ip](std::shared_ptr<const controller::metadata_image> img) {
    {
      std::lock_guard lk(ip->rec_mu);
      ip->pending_image = std::move(img);
    }
    ip->rec_cv.notify_all();
  });

  // The internal listener: Raft traffic of every group and controller calls.
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort(i.internal_address, grpc::InsecureServerCredentials(), &port);
  // gRPC binds with SO_REUSEPORT by default: a second broker on a busy port
  // would bind silently and share (steal) its traffic.
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  replication::grpc_transport::configure_server(b);
  b.RegisterService(i.transport->service());
  b.RegisterService(i.ctl->service());
  i.internal_server = b.BuildAndStart();
  if (!i.internal_server || port == 0) {
    return error(errc::invalid_request, "cannot listen on --internal-listen " +
                                            i.internal_address + " (address in use or not local?)");
  }

  i.reconciler = std::thread([ip] { ip->reconciler_loop(); });
  i.ticker = std::thread([ip] {
    std::unique_lock lk(ip->tick_mu);
    while (!ip->stop_threads.load()) {
      ip->tick_cv.wait_for(lk, std::chrono::milliseconds(kTickMs));
      if (ip->stop_threads.load()) break;
      if (auto* c = ip->ctl_ptr.load()) c->tick();
      std::vector<std::shared_ptr<partition>> parts;
      {
        std::shared_lock plk(ip->mu);
        parts.reserve(ip->partitions.size());
        for (const auto& [_, p] : ip->partitions) parts.push_back(p);
      }
      for (const auto& p : parts) p->tick();
    }
  });

  m.set_partition_source([ip] {
    std::vector<partition_sample> out;
    std::shared_lock lk(ip->mu);
    for (const auto& [_, p] : ip->partitions) out.push_back(p->sample());
    return out;
  });
  if (config.controller_voters.empty()) {
    // A one-node cluster: its controller elects itself at once. Wait
    // (bounded) until this broker is registered and live, so the first
    // CreateTopics after the client port opens can place replicas.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      auto v = i.ctl->view();
      if (std::find(v.live.begin(), v.live.end(), config.node_id) != v.live.end() &&
          v.image->brokers.count(config.node_id)) {
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        spdlog::warn("node {}: not registered with its own controller after 5 s", config.node_id);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  spdlog::info("node {}: internal listener on {}, controller voters {}", config.node_id,
               i.internal_address,
               config.controller_voters.empty() ? "(this node alone)" : config.controller_voters);
  return pm;
}

bool partition_manager::shutting_down() const { return impl_->stopping.load(); }

std::shared_ptr<partition> partition_manager::get(const std::string& topic, int32_t p) const {
  std::shared_lock lk(impl_->mu);
  auto it = impl_->partitions.find(storage::partition_id{topic, p});
  return it == impl_->partitions.end() ? nullptr : it->second;
}

namespace {
topic_info to_topic_info(const controller::topic_info& t) {
  topic_info out;
  out.name = t.name;
  out.partitions = int32_t(t.partitions.size());
  out.replication_factor = t.partitions.empty() ? 0 : int32_t(t.partitions[0].replicas.size());
  out.configs = topic_overrides(t.configs.begin(), t.configs.end());
  return out;
}
}  // namespace

controller::cluster_view partition_manager::view() const { return impl_->ctl->view(); }

std::optional<topic_info> partition_manager::topic(const std::string& name) const {
  auto img = view().image;
  auto it = img->topics.find(name);
  if (it == img->topics.end()) return std::nullopt;
  return to_topic_info(it->second);
}

std::vector<topic_info> partition_manager::topics() const {
  auto img = view().image;
  std::vector<topic_info> out;
  for (const auto& [_, t] : img->topics) out.push_back(to_topic_info(t));
  return out;
}

std::vector<std::shared_ptr<partition>> partition_manager::partitions_of(
    const std::string& topic) const {
  std::vector<std::shared_ptr<partition>> out;
  std::shared_lock lk(impl_->mu);
  for (auto it = impl_->partitions.lower_bound(storage::partition_id{topic, INT32_MIN});
       it != impl_->partitions.end() && it->first.topic == topic; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::string partition_manager::client_address(int32_t id) const {
  auto img = view().image;
  auto it = img->brokers.find(id);
  if (it != img->brokers.end()) return it->second.client_address;
  if (id == config_.node_id) {
    return config_.advertised_listen.empty() ? config_.listen : config_.advertised_listen;
  }
  return "";
}

partition_manager::leader_hint partition_manager::leader_of(const std::string& topic,
                                                            int32_t p) const {
  leader_hint h;
  if (auto part = get(topic, p)) {
    auto st = part->raft_status();
    if (st.leader != raft::no_node) {
      h.id = int32_t(st.leader.value);
      h.epoch = int32_t(st.term.value);
    }
  }
  if (h.id < 0) {
    auto v = view();
    for (const auto& e : v.leaders) {
      if (e.topic == topic && e.partition == p) {
        h.id = e.leader;
        h.epoch = int32_t(e.epoch);
        break;
      }
    }
  }
  if (h.id >= 0) h.address = client_address(h.id);
  return h;
}

partition_manager::partition_state partition_manager::state_of(const controller::cluster_view& v,
                                                               const std::string& topic,
                                                               int32_t p) const {
  partition_state s;
  auto t = v.image->topics.find(topic);
  if (t != v.image->topics.end() && p >= 0 && size_t(p) < t->second.partitions.size()) {
    s.replicas = t->second.partitions[size_t(p)].replicas;
  }
  if (auto part = get(topic, p)) {
    auto st = part->raft_status();
    if (st.leader != raft::no_node) {
      s.leader = int32_t(st.leader.value);
      s.epoch = int32_t(st.term.value);
      if (s.leader == config_.node_id) {
        for (auto n : st.in_sync) s.in_sync.push_back(int32_t(n.value));
      }
    }
  }
  // Only a leader knows its in-sync set; a follower or a broker without a
  // replica takes it from the controller's leader table (the leaders report
  // it with every heartbeat). A table entry at least as new as what the
  // local replica knows wins; an older one (the table lags a leader change
  // by up to a heartbeat round) cannot say who is in sync with the new
  // leader, which is then the one replica known to be.
  const bool local_leader = s.leader == config_.node_id;
  for (const auto& e : v.leaders) {
    if (e.topic != topic || e.partition != p) continue;
    if (local_leader) break;
    if (s.leader < 0 || (e.leader >= 0 && e.epoch >= s.epoch)) {
      s.leader = e.leader;
      s.epoch = int32_t(e.epoch);
      s.in_sync = e.in_sync;
    }
    break;
  }
  if (s.leader >= 0 && s.in_sync.empty()) s.in_sync.push_back(s.leader);
  std::sort(s.in_sync.begin(), s.in_sync.end());
  return s;
}

std::vector<partition_manager::broker_state> partition_manager::brokers(
    const controller::cluster_view& v) const {
  std::vector<broker_state> out;
  for (const auto& [id, b] : v.image->brokers) {
    const bool live = std::find(v.live.begin(), v.live.end(), id) != v.live.end() ||
                      id == config_.node_id;
    out.push_back({id, b.client_address, live});
  }
  if (!v.image->brokers.count(config_.node_id)) {
    out.push_back({config_.node_id,
                   config_.advertised_listen.empty() ? config_.listen : config_.advertised_listen,
                   true});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return out;
}

void partition_manager::begin_shutdown() {
  impl_->stopping.store(true);
  std::shared_lock lk(impl_->mu);
  for (const auto& [_, p] : impl_->partitions) p->wake_all();
}

Status partition_manager::close() {
  if (impl_->closed) return Status();
  impl& i = *impl_;
  i.closed = true;
  i.stopping.store(true);
  metrics_.set_partition_source(nullptr);
  i.stop_threads.store(true);
  {
    std::lock_guard lk(i.rec_mu);
  }
  i.rec_cv.notify_all();
  {
    std::lock_guard lk(i.tick_mu);
  }
  i.tick_cv.notify_all();
  if (i.reconciler.joinable()) i.reconciler.join();
  if (i.ticker.joinable()) i.ticker.join();
  // No more Raft traffic in or out, then the controller stops.
  if (i.internal_server) {
    i.internal_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    i.internal_server->Wait();
  }
  if (i.transport) i.transport->shutdown();
  i.ctl_ptr.store(nullptr);
  if (i.ctl) i.ctl->shutdown();
  {
    // While the pools still run: each group stops and writes its state.
    std::shared_lock lk(i.mu);
    for (const auto& [_, p] : i.partitions) p->stop_replication();
  }
  // Appends already queued finish (the pools run out of work, then stop).
  rt_->admin.join();
  rt_->workers.join();
  rt_->flushers.join();
  Status first;
  {
    std::shared_lock lk(i.mu);
    for (const auto& [id, p] : i.partitions) {
      Status st = p->save_producer_state();
      if (!st.ok()) spdlog::error("{}: producer state snapshot: {}", id.dir_name(), st.message());
    }
  }
  {
    std::unique_lock lk(i.mu);
    i.partitions.clear();
  }
  i.ctl.reset();
  if (i.logs) first = i.logs->close();
  return first;
}

}  // namespace kappa::broker
