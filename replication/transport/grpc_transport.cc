// grpc_transport: peers, queues, the dial loop and shutdown. The stream
// reactors are in peer_stream.cc.
#include "replication/transport/grpc_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "replication/transport/grpc_transport_impl.h"
#include "replication/transport/message_codec.h"

namespace kappa::replication {
namespace {

// Keepalive ping interval and timeout of Peer connections, both ends.
constexpr int kKeepaliveMs = 10'000;

}  // namespace

grpc_transport::impl::impl(grpc_transport_options o, handler h)
    : opts(std::move(o)), on_message(std::move(h)) {}

void grpc_transport::impl::pump_locked(peer_state& p) {
  peer_stream* s = p.stream;
  if (!s || p.queue.empty() || !s->can_write_locked()) return;
  pb::Envelope env;
  size_t bytes = 0;
  while (!p.queue.empty()) {
    queued_message& q = p.queue.front();
    if (env.messages_size() > 0 && bytes + q.bytes > kEnvelopeBytesMax) break;
    bytes += q.bytes;
    p.queue_bytes -= q.bytes;
    *env.add_messages() = std::move(q.gm);
    p.queue.pop_front();
  }
  ++st.envelopes_sent;
  st.messages_sent += static_cast<uint64_t>(env.messages_size());
  s->write_locked(std::move(env));
}

void grpc_transport::impl::drop_queue_locked(peer_state& p) {
  st.messages_dropped += p.queue.size();
  p.queue.clear();
  p.queue_bytes = 0;
}

std::shared_ptr<grpc::Channel> grpc_transport::impl::make_channel(
    const std::string& address) const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kGrpcMessageBytesMax);
  args.SetMaxSendMessageSize(kGrpcMessageBytesMax);
  // The channel's own reconnect backoff (default up to 120 s) would make
  // our redials fail fast long after the peer is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, opts.backoff_min_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, opts.backoff_min_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, opts.backoff_max_ms);
  // Our own connection, not one shared with other channels of the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A peer that vanished without closing its connection (a partition, a
  // dead host) is noticed within ~kKeepaliveMs * 2 instead of TCP's
  // minutes; configure_server() lets the acceptor take these pings.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveMs);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void grpc_transport::impl::bury_locked(std::shared_ptr<grpc::Channel> ch) {
  if (ch) dead_channels.push_back(std::move(ch));
}

void grpc_transport::impl::empty_graveyard(std::unique_lock<std::mutex>& lk) {
  auto streams = std::move(dead_streams);
  auto channels = std::move(dead_channels);
  dead_streams.clear();
  dead_channels.clear();
  lk.unlock();
  streams.clear();  // before the channels: a stream's context refers to its channel
  channels.clear();
  lk.lock();
}

// Starts a call to every dialable peer whose backoff has expired; sleeps
// until the next one expires or something changes.
void grpc_transport::impl::dial_loop() {
  std::unique_lock lk(mu);
  while (!shut) {
    if (!dead_streams.empty() || !dead_channels.empty()) {
      empty_graveyard(lk);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    auto wake = now + std::chrono::hours(1);
    std::vector<client_stream*> started;
    for (auto& [id, p] : peers) {
      if (!(opts.self < id) || p.dialing || !p.channel) continue;
      if (p.next_dial > now) {
        wake = std::min(wake, p.next_dial);
        continue;
      }
      auto* s = new client_stream(*this, id, p.channel);
      live.insert(s);
      p.dialing = s;
      ++st.streams_dialed;
      s->prepare_locked();
      started.push_back(s);
    }
    if (!started.empty()) {
      // StartCall without the lock. The streams cannot finish before it
      // (OnDone needs the call started), and shutdown() joins this thread
      // before it waits for them.
      lk.unlock();
      for (client_stream* s : started) s->start();
      lk.lock();
      continue;
    }
    cv.wait_until(lk, wake);
  }
}

void grpc_transport::impl::shutdown() {
  {
    std::unique_lock lk(mu);
    if (shut) {
      cv.wait(lk, [&] { return shutdown_done; });
      return;
    }
    shut = true;
    grpc::Status why(grpc::StatusCode::UNAVAILABLE,
                     fmt::format("node {} is shutting down", opts.self.value));
    for (peer_stream* s : live) s->close_locked(why);
    for (auto& [id, p] : peers) drop_queue_locked(p);
    cv.notify_all();
  }
  if (dialer.joinable()) dialer.join();
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return live.empty(); });
  empty_graveyard(lk);
  shutdown_done = true;
  cv.notify_all();
}

// ---- grpc_transport -------------------------------------------------------

std::unique_ptr<grpc_transport> grpc_transport::create(grpc_transport_options opts, handler h) {
  KAPPA_ASSERT(opts.self != raft::no_node);
  KAPPA_ASSERT(!opts.cluster_id.empty());
  KAPPA_ASSERT(0 < opts.backoff_min_ms && opts.backoff_min_ms <= opts.backoff_max_ms);
  KAPPA_ASSERT(h);
  auto i = std::make_unique<impl>(std::move(opts), std::move(h));
  impl* raw = i.get();
  raw->dialer = std::thread([raw] { raw->dial_loop(); });
  return std::unique_ptr<grpc_transport>(new grpc_transport(std::move(i)));
}

grpc_transport::grpc_transport(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

grpc_transport::~grpc_transport() {
  impl_->shutdown();
}

void grpc_transport::send(const group_name& group, raft::message m) {
  queued_message q;
  q.gm.set_group(group);
  // Encoded before taking the lock. The payloads move; m.to stays valid.
  const raft::node_id to = m.to;
  Status s = encode_message(std::move(m), q.gm.mutable_m());
  impl& t = *impl_;
  std::lock_guard lk(t.mu);
  if (!s.ok()) {
    ++t.st.messages_dropped;
    spdlog::error("transport: node {}: cannot send to node {}: {}", t.opts.self.value, to.value,
                  s.message());
    return;
  }
  auto it = t.peers.find(to);
  if (t.shut || it == t.peers.end() || !it->second.stream) {
    ++t.st.messages_dropped;
    return;
  }
  peer_state& p = it->second;
  q.bytes = q.gm.ByteSizeLong();
  if (q.bytes > kMessageBytesMax) {
    // gRPC would fail the write and with it the stream, on every retry.
    ++t.st.messages_dropped;
    spdlog::error(
        "transport: node {}: dropping a {}-byte message of group {} to node {}: over "
        "the {}-byte limit",
        t.opts.self.value, q.bytes, group, to.value, kMessageBytesMax);
    return;
  }
  if (p.queue_bytes + q.bytes > t.opts.max_queue_bytes) {
    ++t.st.messages_dropped;
    return;
  }
  p.queue_bytes += q.bytes;
  p.queue.push_back(std::move(q));
  t.pump_locked(p);
}

void grpc_transport::set_peer(const peer& p) {
  impl& t = *impl_;
  if (p.id == t.opts.self || p.id == raft::no_node) return;  // never a stream to itself
  std::lock_guard lk(t.mu);
  if (t.shut) return;
  auto [it, inserted] = t.peers.try_emplace(p.id);
  peer_state& ps = it->second;
  if (inserted) {
    ps.id = p.id;
    ps.backoff_ms = t.opts.backoff_min_ms;
  } else if (ps.address == p.address) {
    return;
  }
  ps.address = p.address;
  if (!(t.opts.self < p.id)) return;  // the peer dials us; its address is informational
  t.bury_locked(std::move(ps.channel));
  ps.channel = t.make_channel(p.address);
  ps.backoff_ms = t.opts.backoff_min_ms;
  ps.last_error.clear();
  if (ps.dialing) {  // a call to the old address: end it and redial at once
    ps.redial_now = true;
    ps.dialing->close_locked(
        grpc::Status(grpc::StatusCode::CANCELLED, "the peer's address changed"));
  } else {
    ps.next_dial = std::chrono::steady_clock::now();
  }
  t.cv.notify_all();
}

void grpc_transport::remove_peer(raft::node_id id) {
  impl& t = *impl_;
  std::lock_guard lk(t.mu);
  auto it = t.peers.find(id);
  if (it == t.peers.end()) return;
  grpc::Status why(
      grpc::StatusCode::CANCELLED,
      fmt::format("node {} is no longer a peer of node {}", id.value, t.opts.self.value));
  peer_state& p = it->second;
  if (p.stream) p.stream->close_locked(why);
  if (p.dialing) p.dialing->close_locked(why);
  t.drop_queue_locked(p);
  t.bury_locked(std::move(p.channel));
  t.peers.erase(it);
}

bool grpc_transport::connected(raft::node_id id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->peers.find(id);
  return it != impl_->peers.end() && it->second.stream != nullptr;
}

void grpc_transport::shutdown() {
  impl_->shutdown();
}

grpc::Service* grpc_transport::service() {
  return &impl_->service;
}

void grpc_transport::configure_server(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(kGrpcMessageBytesMax);
  builder.SetMaxSendMessageSize(kGrpcMessageBytesMax);
  // The dialers' keepalive pings on an idle stream must not count as abuse
  // (gRPC's default allows one per 5 minutes, then closes the connection).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kKeepaliveMs / 2);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // And the acceptor notices a vanished dialer the same way.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveMs);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
}

grpc_transport::stats grpc_transport::get_stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->st;
}

}  // namespace kappa::replication
