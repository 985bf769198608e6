// Internals of grpc_transport shared by its .cc files; not a public header
// (it pulls in gRPC).
//
// Locking: one mutex (impl::mu) guards every field below, of the impl and of
// the streams, except each stream's `in_` buffer, which only its single
// outstanding read touches. gRPC runs reactions on its own threads, never
// inline from StartRead/StartWrite/Finish/TryCancel, so those are called with
// mu held. The handler is called without mu.
//
// Channels are never destroyed on a gRPC callback thread: in gRPC 1.51 the
// last grpc::Channel (or Server) of the process going away there shuts down
// and frees the shared callback completion queue under the very thread that
// is polling it (a double free seen under ASan). So channels no longer
// needed, and finished client streams (their ClientContext holds the channel
// too), go to the graveyard, emptied by the dial thread and by shutdown().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kappa/internal/v1/peer.grpc.pb.h"
#include "replication/transport/grpc_transport.h"

namespace kappa::replication {

namespace pb = internal::v1;

class peer_stream;
class client_stream;

struct queued_message {
  pb::GroupMessage gm;
  size_t bytes = 0;  // its share of max_queue_bytes
};

struct peer_state {
  raft::node_id id;
  std::string address;
  // The stream that carries traffic (established: Hellos exchanged), if any.
  peer_stream* stream = nullptr;
  std::deque<queued_message> queue;
  size_t queue_bytes = 0;

  // Dialer side only (self < id).
  std::shared_ptr<grpc::Channel> channel;
  client_stream* dialing = nullptr;  // the outgoing call, until its OnDone
  std::chrono::steady_clock::time_point next_dial{};
  int backoff_ms = 0;
  bool redial_now = false;  // the address changed: skip the backoff once
  std::string last_error;   // logged when it changes, not on every retry
};

class peer_service final : public pb::Peer::CallbackService {
 public:
  explicit peer_service(grpc_transport::impl& t) : t_(t) {}
  grpc::ServerBidiReactor<pb::Envelope, pb::Envelope>* Connect(
      grpc::CallbackServerContext* ctx) override;

 private:
  grpc_transport::impl& t_;
};

struct grpc_transport::impl {
  impl(grpc_transport_options o, handler h);

  // Writes the next envelope of p's queue on p's stream if it is idle.
  void pump_locked(peer_state& p);
  // Drops p's queued messages (counted).
  void drop_queue_locked(peer_state& p);
  std::shared_ptr<grpc::Channel> make_channel(const std::string& address) const;
  // Keeps `ch` alive until a thread of ours can drop it. REQUIRES: mu held.
  void bury_locked(std::shared_ptr<grpc::Channel> ch);
  // Destroys what the graveyard holds, without mu. REQUIRES: `lk` holds mu;
  // it holds it again on return.
  void empty_graveyard(std::unique_lock<std::mutex>& lk);
  void dial_loop();
  void shutdown();

  const grpc_transport_options opts;
  const handler on_message;

  mutable std::mutex mu;
  std::condition_variable cv;  // wakes the dial loop; signals a reactor's end
  std::map<raft::node_id, peer_state> peers;
  std::set<peer_stream*> live;  // every reactor whose OnDone has not run
  bool shut = false;
  bool shutdown_done = false;
  grpc_transport::stats st;
  std::vector<std::shared_ptr<grpc::Channel>> dead_channels;
  std::vector<std::unique_ptr<client_stream>> dead_streams;  // after their OnDone
  peer_service service{*this};
  std::thread dialer;
};

// What the two ends of a stream share: the Hello exchange, the read loop
// that delivers messages, and the write pump. The subclasses are the gRPC
// reactors; each deletes itself in OnDone.
class peer_stream {
 public:
  explicit peer_stream(grpc_transport::impl& t) : t_(t) {}
  virtual ~peer_stream() = default;

  // Stops being the peer's stream and ends the call (idempotent); OnDone
  // follows. REQUIRES: t_.mu held.
  void close_locked(const grpc::Status& why);

  // REQUIRES: t_.mu held; the write pump only.
  bool can_write_locked() const { return established_ && !writing_ && !closing_; }
  void write_locked(pb::Envelope env);

 protected:
  virtual void start_read(pb::Envelope* in) = 0;
  virtual void start_write(const pb::Envelope* out) = 0;
  virtual void end(const grpc::Status& why) = 0;  // Finish / TryCancel
  // Checks the peer's Hello (null: the first frame had none); on success
  // sets peer_ and established_ (and, server side, answers with its own
  // Hello). REQUIRES: t_.mu held.
  virtual grpc::Status accept_hello_locked(const pb::Hello* h) = 0;

  void on_read_done(bool ok);
  void on_write_done(bool ok);
  // Leaves the peer (and, dialer side, schedules the redial) and the live
  // set. The last touch of the transport: the caller deletes *this after.
  void on_done_locked();
  // Stops being the peer's stream (dropping its queue) if it is.
  void detach_locked();
  pb::Hello my_hello() const;

  grpc_transport::impl& t_;
  raft::node_id peer_ = raft::no_node;  // dialer: from the start; acceptor: after Hello
  bool hello_seen_ = false;
  bool established_ = false;
  bool writing_ = false;
  bool closing_ = false;
  pb::Envelope in_;
  pb::Envelope out_;
};

class server_stream final : public grpc::ServerBidiReactor<pb::Envelope, pb::Envelope>,
                            public peer_stream {
 public:
  explicit server_stream(grpc_transport::impl& t) : peer_stream(t) {}
  // REQUIRES: t_.mu held.
  void start_locked();

  void OnReadDone(bool ok) override { on_read_done(ok); }
  void OnWriteDone(bool ok) override { on_write_done(ok); }
  void OnCancel() override;
  void OnDone() override;

 private:
  void start_read(pb::Envelope* in) override { StartRead(in); }
  void start_write(const pb::Envelope* out) override { StartWrite(out); }
  void end(const grpc::Status& why) override { Finish(why); }
  grpc::Status accept_hello_locked(const pb::Hello* h) override;
};

// Destroyed by the transport, not by itself (see the graveyard above).
class client_stream final : public grpc::ClientBidiReactor<pb::Envelope, pb::Envelope>,
                            public peer_stream {
 public:
  client_stream(grpc_transport::impl& t, raft::node_id peer, std::shared_ptr<grpc::Channel> ch);
  // Queues the Hello and the first read. REQUIRES: t_.mu held. Then, without
  // t_.mu, start() begins the call.
  void prepare_locked();
  void start() { StartCall(); }

  void OnReadDone(bool ok) override { on_read_done(ok); }
  void OnWriteDone(bool ok) override { on_write_done(ok); }
  void OnDone(const grpc::Status& s) override;

 private:
  void start_read(pb::Envelope* in) override { StartRead(in); }
  void start_write(const pb::Envelope* out) override { StartWrite(out); }
  void end(const grpc::Status&) override { ctx_.TryCancel(); }
  grpc::Status accept_hello_locked(const pb::Hello* h) override;

  grpc::ClientContext ctx_;
  std::unique_ptr<pb::Peer::Stub> stub_;
  std::string refusal_;  // why this end refused the acceptor's Hello
};

}  // namespace kappa::replication
