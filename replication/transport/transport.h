// replication::transport — how Raft messages travel between brokers.
//
// One transport per broker multiplexes every Raft group (every partition
// replica and the __controller group) over ONE gRPC bidi stream per broker
// pair (proto/kappa/internal/v1/peer.proto, service Peer). The broker with
// the lower node id dials; the stream carries traffic both ways. Messages
// queued for a peer are coalesced into one envelope per write, so the
// heartbeats every group sends on the same tick leave as one frame.
//
// Identity: a stream begins with a Hello (cluster id, node id) that the
// receiver checks against the configured peers; from then on every message's
// `from` is set by the receiver from the stream's peer, never taken from a
// request field. Streams from unknown nodes or another cluster are refused.
//
// Delivery is best effort, like the network Raft assumes: send() never
// blocks; a message to a peer that is down, or beyond the per-peer queue cap,
// is dropped (Raft retries). A lost stream is redialled with exponential
// backoff (50 ms .. 2 s).
//
// Thread safety: every method may be called from any thread. Handlers run on
// gRPC threads and must not block (post to a strand).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/raft/types.h"

namespace kappa::replication {

// A Raft group's name, the same on every broker: "<topic>-<partition>" for a
// partition replica, "__controller" for the controller group.
using group_name = std::string;
inline const group_name kControllerGroup = "__controller";

struct peer {
  raft::node_id id;
  std::string address;  // host:port of its internal (Peer service) listener
};

class transport {
 public:
  // Called for every message received, with m.from set to the stream's
  // authenticated peer and m.to to this node.
  using handler = std::function<void(const group_name& group, raft::message m)>;

  virtual ~transport() = default;

  // Queues `m` for m.to. Never blocks; drops when m.to is unknown, down, or
  // its queue is over the cap.
  virtual void send(const group_name& group, raft::message m) = 0;

  // Adds or updates a peer (a broker registered with the controller, or a
  // configured controller voter). Idempotent.
  virtual void set_peer(const peer& p) = 0;
  virtual void remove_peer(raft::node_id id) = 0;

  // Whether a stream to `id` is established right now (for describe/metrics).
  virtual bool connected(raft::node_id id) const = 0;

  // Stops every stream; later sends are dropped. Idempotent.
  virtual void shutdown() = 0;
};

}  // namespace kappa::replication
