// Test nodes: a grpc_transport plus its own grpc::Server on 127.0.0.1, and a
// raw Peer client for speaking the protocol by hand. Every wait is bounded.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kappa/internal/v1/peer.grpc.pb.h"
#include "replication/transport/grpc_transport.h"

namespace kappa::replication::test {

namespace pb = internal::v1;

inline const std::string kCluster = "test-cluster";

// Polls `pred` every 5 ms for up to `ms`.
inline bool eventually(const std::function<bool()>& pred, int ms = 10'000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

struct received {
  group_name group;
  raft::message m;
};

class test_node {
 public:
  explicit test_node(uint64_t id, std::string cluster = kCluster, size_t max_queue_bytes = 64 << 20)
      : id_(id) {
    grpc_transport_options o;
    o.self = raft::node_id(id);
    o.cluster_id = std::move(cluster);
    o.max_queue_bytes = max_queue_bytes;
    t_ = grpc_transport::create(std::move(o), [this](const group_name& g, raft::message m) {
      if (on_message) on_message(g, m);
      std::lock_guard lk(mu_);
      got_.push_back({g, std::move(m)});
    });
    start_server(0);
  }

  // The broker's order: end the streams, stop the server (which would
  // otherwise wait for them), and only then destroy the service.
  ~test_node() {
    t_->shutdown();
    stop_server();
    t_.reset();
  }

  void start_server(int port) {
    grpc::ServerBuilder b;
    grpc_transport::configure_server(b);
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                       &port_);
    b.RegisterService(t_->service());
    server_ = b.BuildAndStart();
    if (!server_ || port_ == 0) throw std::runtime_error("cannot listen on 127.0.0.1");
  }

  void stop_server() {
    if (!server_) return;
    // Calls still open at the deadline are cancelled.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    server_.reset();
  }

  raft::node_id id() const { return raft::node_id(id_); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  peer as_peer() const { return {id(), address()}; }
  grpc_transport& t() { return *t_; }

  size_t count() {
    std::lock_guard lk(mu_);
    return got_.size();
  }
  std::vector<received> got() {
    std::lock_guard lk(mu_);
    return got_;
  }

  // Called on gRPC threads before a message is recorded (set it before
  // traffic starts).
  std::function<void(const group_name&, const raft::message&)> on_message;

 private:
  uint64_t id_;
  std::unique_ptr<grpc_transport> t_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<received> got_;
};

// Makes every node a peer of every other. The acceptors (higher ids) learn
// their peers first, so no first dial is refused as "not a known peer" and
// the dial counts the tests assert are exact.
inline void mesh(std::vector<test_node*> nodes) {
  std::sort(nodes.begin(), nodes.end(),
            [](test_node* a, test_node* b) { return b->id() < a->id(); });
  for (test_node* a : nodes) {
    for (test_node* b : nodes) {
      if (a != b) a->t().set_peer(b->as_peer());
    }
  }
}

inline raft::message heartbeat(uint64_t to, uint64_t term = 1) {
  raft::message m;
  m.type = raft::message_type::heartbeat;
  m.to = raft::node_id(to);
  m.term = raft::term_id(term);
  return m;
}

// Speaks Peer by hand, with a 10 s deadline on the whole call.
class raw_client {
 public:
  explicit raw_client(const std::string& address)
      : stub_(pb::Peer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    rw_ = stub_->Connect(&ctx_);
  }

  bool hello(const std::string& cluster, uint64_t node) {
    pb::Envelope e;
    e.mutable_hello()->set_cluster_id(cluster);
    e.mutable_hello()->set_node_id(node);
    return rw_->Write(e);
  }
  bool write(const pb::Envelope& e) { return rw_->Write(e); }
  bool read(pb::Envelope* e) { return rw_->Read(e); }
  grpc::Status finish() {
    rw_->WritesDone();
    return rw_->Finish();
  }
  void cancel() { ctx_.TryCancel(); }

 private:
  std::unique_ptr<pb::Peer::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::Envelope, pb::Envelope>> rw_;
};

}  // namespace kappa::replication::test
