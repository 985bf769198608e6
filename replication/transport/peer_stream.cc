// The two ends of a Peer stream: server_stream (the acceptor) and
// client_stream (the dialer), and what they share.
#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "replication/transport/grpc_transport_impl.h"
#include "replication/transport/message_codec.h"

namespace kappa::replication {
namespace {

// A call refused before any state exists (the transport is shutting down).
// Touches nothing but itself.
class refused_stream final : public grpc::ServerBidiReactor<pb::Envelope, pb::Envelope> {
 public:
  explicit refused_stream(grpc::Status s) { Finish(std::move(s)); }
  void OnDone() override { delete this; }
};

constexpr const char* kNoHello = "the first frame of a Peer stream must carry a Hello";

}  // namespace

// ---- peer_stream ----------------------------------------------------------

pb::Hello peer_stream::my_hello() const {
  pb::Hello h;
  h.set_cluster_id(t_.opts.cluster_id);
  h.set_node_id(t_.opts.self.value);
  return h;
}

void peer_stream::close_locked(const grpc::Status& why) {
  detach_locked();
  if (closing_) return;
  closing_ = true;
  end(why);
}

void peer_stream::detach_locked() {
  if (peer_ == raft::no_node) return;
  auto it = t_.peers.find(peer_);
  if (it == t_.peers.end() || it->second.stream != this) return;
  it->second.stream = nullptr;
  t_.drop_queue_locked(it->second);
}

void peer_stream::write_locked(pb::Envelope env) {
  KAPPA_ASSERT(!writing_ && !closing_);  // one write in flight per stream
  out_ = std::move(env);
  writing_ = true;
  start_write(&out_);
}

void peer_stream::on_read_done(bool ok) {
  std::vector<std::pair<group_name, raft::message>> batch;
  {
    std::lock_guard lk(t_.mu);
    if (!ok) {  // the other end finished, cancelled or broke the stream
      close_locked(grpc::Status::OK);
      return;
    }
    if (closing_) return;
    if (!hello_seen_) {
      hello_seen_ = true;
      grpc::Status s = accept_hello_locked(in_.has_hello() ? &in_.hello() : nullptr);
      if (!s.ok()) {
        close_locked(s);
        return;
      }
    } else {
      ++t_.st.envelopes_received;
    }
    if (t_.shut) return;
    batch.reserve(static_cast<size_t>(in_.messages_size()));
    for (pb::GroupMessage& gm : *in_.mutable_messages()) {
      raft::message m;
      Status s = decode_message(std::move(*gm.mutable_m()), &m);
      if (!s.ok()) {
        if (t_.st.messages_rejected++ % 1000 == 0) {  // a newer peer would flood the log
          spdlog::warn("transport: node {}: dropping a message of group {} from node {}: {}",
                       t_.opts.self.value, gm.group(), peer_.value, s.message());
        }
        continue;
      }
      m.from = peer_;  // identity comes from the stream, never from the frame
      m.to = t_.opts.self;
      batch.emplace_back(std::move(*gm.mutable_group()), std::move(m));
    }
    t_.st.messages_received += batch.size();
  }
  // Without the lock: the handler may call send(). The next read starts only
  // after delivery, so one stream's messages reach the handler in order.
  for (auto& [group, m] : batch) t_.on_message(group, std::move(m));
  std::lock_guard lk(t_.mu);
  in_ = pb::Envelope();  // do not keep a large envelope's buffers around
  if (!closing_) start_read(&in_);
}

void peer_stream::on_write_done(bool ok) {
  std::lock_guard lk(t_.mu);
  writing_ = false;
  out_ = pb::Envelope();
  if (!ok) {
    close_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    return;
  }
  auto it = t_.peers.find(peer_);
  if (it != t_.peers.end() && it->second.stream == this) t_.pump_locked(it->second);
}

void peer_stream::on_done_locked() {
  detach_locked();
  t_.live.erase(this);
  t_.cv.notify_all();
}

// ---- server_stream: the acceptor ------------------------------------------

grpc::ServerBidiReactor<pb::Envelope, pb::Envelope>* peer_service::Connect(
    grpc::CallbackServerContext*) {
  std::lock_guard lk(t_.mu);
  if (t_.shut) {
    ++t_.st.streams_refused;
    return new refused_stream(
        grpc::Status(grpc::StatusCode::UNAVAILABLE,
                     fmt::format("node {} is shutting down", t_.opts.self.value)));
  }
  auto* s = new server_stream(t_);
  t_.live.insert(s);
  s->start_locked();
  return s;
}

void server_stream::start_locked() {
  StartRead(&in_);
}

grpc::Status server_stream::accept_hello_locked(const pb::Hello* hello) {
  const raft::node_id self = t_.opts.self;
  auto refuse = [&](grpc::StatusCode code, std::string why) {
    ++t_.st.streams_refused;
    spdlog::warn("transport: node {} refused a Peer stream: {}", self.value, why);
    return grpc::Status(code, std::move(why));
  };
  if (!hello) return refuse(grpc::StatusCode::PERMISSION_DENIED, kNoHello);
  const pb::Hello& h = *hello;
  const raft::node_id id(h.node_id());
  if (h.cluster_id() != t_.opts.cluster_id) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED,
                  fmt::format("node {} says it is in cluster '{}', but node {} is in cluster '{}'",
                              id.value, h.cluster_id(), self.value, t_.opts.cluster_id));
  }
  if (id == raft::no_node || id == self) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED,
                  fmt::format("a Peer stream to node {} claims node id {}", self.value, id.value));
  }
  auto it = t_.peers.find(id);
  if (it == t_.peers.end()) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED,
                  fmt::format("node {} is not a known peer of node {}", id.value, self.value));
  }
  if (!(id < self)) {
    return refuse(grpc::StatusCode::FAILED_PRECONDITION,
                  fmt::format("node {} must not dial node {}: the lower node id dials", id.value,
                              self.value));
  }
  peer_state& p = it->second;
  peer_ = id;
  established_ = true;
  ++t_.st.streams_accepted;
  peer_stream* old = p.stream;
  p.stream = this;  // first, so closing the old one keeps the queue
  if (old) {
    old->close_locked(
        grpc::Status(grpc::StatusCode::ABORTED,
                     fmt::format("replaced by a newer stream from node {}", id.value)));
  }
  pb::Envelope reply;
  *reply.mutable_hello() = my_hello();
  write_locked(std::move(reply));
  spdlog::info("transport: node {} accepted the stream from node {}", self.value, id.value);
  return grpc::Status::OK;
}

void server_stream::OnCancel() {
  std::lock_guard lk(t_.mu);
  close_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
}

void server_stream::OnDone() {
  {
    std::lock_guard lk(t_.mu);
    on_done_locked();
  }
  delete this;  // after the unlock: the transport may be gone the moment live is empty
}

// ---- client_stream: the dialer --------------------------------------------

client_stream::client_stream(grpc_transport::impl& t, raft::node_id peer,
                             std::shared_ptr<grpc::Channel> ch)
    : peer_stream(t), stub_(pb::Peer::NewStub(std::move(ch))) {
  peer_ = peer;
}

void client_stream::prepare_locked() {
  stub_->async()->Connect(&ctx_, this);
  pb::Envelope hello;
  *hello.mutable_hello() = my_hello();
  write_locked(std::move(hello));
  StartRead(&in_);
}

grpc::Status client_stream::accept_hello_locked(const pb::Hello* hello) {
  auto it = t_.peers.find(peer_);
  if (it == t_.peers.end() || it->second.dialing != this) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the peer was removed or redialled");
  }
  peer_state& p = it->second;
  if (!hello) {
    refusal_ = fmt::format("the broker at {}: {}", p.address, kNoHello);
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refusal_);
  }
  const pb::Hello& h = *hello;
  if (h.cluster_id() != t_.opts.cluster_id || h.node_id() != peer_.value) {
    refusal_ = fmt::format("the broker at {} is node {} of cluster '{}', not node {} of '{}'",
                           p.address, h.node_id(), h.cluster_id(), peer_.value, t_.opts.cluster_id);
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refusal_);
  }
  established_ = true;
  p.stream = this;
  p.backoff_ms = t_.opts.backoff_min_ms;
  p.last_error.clear();
  spdlog::info("transport: node {} connected to node {} at {}", t_.opts.self.value, peer_.value,
               p.address);
  t_.pump_locked(p);
  return grpc::Status::OK;
}

void client_stream::OnDone(const grpc::Status& s) {
  {
    std::lock_guard lk(t_.mu);
    auto it = t_.peers.find(peer_);
    if (it != t_.peers.end() && it->second.dialing == this) {
      peer_state& p = it->second;
      p.dialing = nullptr;
      std::string why = !refusal_.empty() ? refusal_
                        : s.ok()          ? std::string("the peer ended the stream")
                                          : s.error_message();
      if (!t_.shut && why != p.last_error) {  // not on every retry
        spdlog::warn("transport: node {}: stream to node {} at {} ended: {}", t_.opts.self.value,
                     peer_.value, p.address, why);
        p.last_error = why;
      }
      auto now = std::chrono::steady_clock::now();
      if (p.redial_now) {
        p.redial_now = false;
        p.next_dial = now;
      } else {
        p.next_dial = now + std::chrono::milliseconds(p.backoff_ms);
        p.backoff_ms = std::min(p.backoff_ms * 2, t_.opts.backoff_max_ms);
      }
    }
    // Not `delete this`: that could drop the process's last channel on
    // this gRPC thread. The dial loop or shutdown() destroys it.
    t_.dead_streams.emplace_back(this);
    on_done_locked();  // notifies the dial loop too
  }
}

}  // namespace kappa::replication
