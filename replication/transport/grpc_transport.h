// grpc_transport: the transport (transport.h) over gRPC, service Peer of
// proto/kappa/internal/v1/peer.proto.
//
// One Connect stream per broker pair. The broker with the lower node id dials
// the higher one at the address given by set_peer() and redials with
// exponential backoff (backoff_min_ms .. backoff_max_ms) whenever the stream
// ends, at once when the peer's address changes. The higher one accepts on
// service(), which the broker registers on its internal grpc::Server. Both
// directions use that one stream. Each end sends a Hello first; the acceptor
// refuses (PERMISSION_DENIED) a stream from another cluster, from a node that
// is not a configured peer, or from itself (and, FAILED_PRECONDITION, from a
// higher id, which should be the acceptor); the dialer hangs up on an
// acceptor that is not the node it meant to reach. A newer stream from a
// peer replaces the older one (ABORTED).
//
// Sends: each peer has a queue of encoded messages. One write is in flight
// per stream; when it completes, everything queued leaves as ONE Envelope
// (several when the backlog is over kEnvelopeBytesMax). send() drops, and
// counts, a message whose peer has no established stream, whose queue would
// exceed max_queue_bytes, or that is over kMessageBytesMax; a stream that
// ends drops its queue. Messages to one peer arrive in the order sent while
// one stream lasts; nothing is promised across a reconnect.
//
// Every received message is delivered with from = the stream's peer and
// to = self, whatever the frame said. A message that does not decode (an
// enum value this build does not know) is dropped and logged; the stream
// stays up.
//
// Lifetime: shutdown() cancels every stream and waits until every reactor is
// done; the destructor calls it. The handler is not called once shutdown()
// returns. The grpc::Server that service() is registered on must be shut
// down before the transport is destroyed (gRPC's rule for services); call
// shutdown() first, or Server::Shutdown waits for the peers' streams until
// its deadline. Order: transport.shutdown(), server.Shutdown(), destroy.
//
// Thread safety: every method may be called from any thread, except that
// shutdown() and the destructor must not be called from the handler. The
// handler runs on gRPC threads, one message at a time per stream, and must
// not block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "replication/transport/transport.h"

namespace grpc {
class Service;
class ServerBuilder;
}  // namespace grpc

namespace kappa::replication {

struct grpc_transport_options {
  raft::node_id self;
  std::string cluster_id;
  // Per peer: bytes of encoded messages waiting for a write. Over it, send()
  // drops (Raft retries); it bounds memory when a peer is slow.
  size_t max_queue_bytes = 64 << 20;
  int backoff_min_ms = 50;
  int backoff_max_ms = 2000;
};

class grpc_transport final : public transport {
 public:
  // An envelope is cut at this size (a single larger message goes alone).
  static constexpr size_t kEnvelopeBytesMax = 8 << 20;
  // gRPC max send/receive message size on both ends: an envelope plus one
  // message carrying a maximum-size batch fits with room to spare.
  static constexpr int kGrpcMessageBytesMax = 64 << 20;
  // A single encoded message over this is dropped by send() (counted and
  // logged): it could never leave. Raft bounds its appends far below.
  static constexpr size_t kMessageBytesMax = kGrpcMessageBytesMax - (1 << 20);

  struct stats {
    uint64_t envelopes_sent = 0;    // envelopes with messages (Hello not counted)
    uint64_t messages_sent = 0;     // messages put into those envelopes
    uint64_t messages_dropped = 0;  // by send() (no stream, queue cap, no encoding) or stream loss
    uint64_t envelopes_received = 0;  // envelopes after the Hello
    uint64_t messages_received = 0;   // messages delivered to the handler
    uint64_t messages_rejected = 0;   // received but undecodable (e.g. an unknown type)
    uint64_t streams_dialed = 0;      // Connect calls started by this node
    uint64_t streams_accepted = 0;    // incoming streams whose Hello was accepted
    uint64_t streams_refused = 0;     // incoming streams refused (bad Hello, shut down)
  };

  // REQUIRES: opts.self != raft::no_node, a non-empty cluster_id,
  // 0 < backoff_min_ms <= backoff_max_ms.
  static std::unique_ptr<grpc_transport> create(grpc_transport_options opts, handler h);

  ~grpc_transport() override;
  grpc_transport(const grpc_transport&) = delete;
  grpc_transport& operator=(const grpc_transport&) = delete;

  void send(const group_name& group, raft::message m) override;
  void set_peer(const peer& p) override;
  void remove_peer(raft::node_id id) override;
  bool connected(raft::node_id id) const override;
  void shutdown() override;

  // The Peer service to register on the broker's internal server.
  grpc::Service* service();
  // Sets what the internal server needs for Peer streams: message size
  // limits of kGrpcMessageBytesMax (gRPC's 4 MiB default would refuse large
  // envelopes) and keepalive pings both ways (a vanished peer is noticed in
  // ~20 s). Call it on the broker's internal ServerBuilder.
  static void configure_server(grpc::ServerBuilder& builder);

  stats get_stats() const;

  struct impl;  // public so the .cc's reactors can name it

 private:
  explicit grpc_transport(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::replication
