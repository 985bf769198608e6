// kappa::controller::controller — this broker's view of, and access to, the
// cluster controller.
//
// On a controller voter (its id is in --controller-voters) it runs the
// __controller Raft group (replication::raft_group) over the storage::log at
// `<data_dir>/__kappa/controller/` (not `__controller-0/`: the log manager
// takes `<name>-<n>` directories for partitions), with its Raft state files
// (`raft.state`, `leader-epoch-checkpoint`, as a partition's) in the same
// directory. Every voter applies committed records to its metadata image.
// A broker that is not a voter pulls committed records from a voter
// (Controller.FetchMetadata, long-polled) and applies them the same way.
//
// Commands (submit) go to the controller leader: on the leader they are
// planned against the image (plan()) and proposed; the answer comes after
// commit. Elsewhere they are forwarded over the internal Controller service
// to the leader (retrying across voters and elections up to the deadline).
//
// Liveness: every broker calls Controller.Heartbeat on the leader every
// 500 ms with its addresses (the first heartbeat of an unknown or changed
// broker registers it through the log) and the partitions it leads (topic,
// partition, epoch). The leader keeps liveness (a broker is live if it
// heartbeated within 3 s) and the partition leader table in memory, not in
// the log, and answers each heartbeat with both, so every broker can answer
// Metadata for partitions it does not host. A report of an older epoch than
// the table's is ignored; an entry whose leader is no longer live is told
// with leader -1 (offline). A new controller leader counts every registered
// broker live for one window, until heartbeats reach it. Placement uses the
// live brokers that are registered: a broker is placed on only once its
// first heartbeat's registration has committed.
//
// Answers: submit() answers once the records are committed AND applied to
// this broker's image (a forwarded command waits for the local image to
// catch up, bounded by the deadline). A command retried across a leader
// change may have committed the first time (e.g. a second create_topic then
// answers topic_already_exists).
//
// Time: every timer (heartbeats, retries, deadlines, long polls) is checked
// on tick(), which the broker calls every 50 ms (the Raft tick).
//
// Thread safety: every method may be called from any thread; callbacks run on
// the controller's own strand. shutdown() and the destructor must not be
// called on the strand or the flusher (they wait for both).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/format/result.h"
#include "replication/controller/metadata_image.h"
#include "replication/transport/transport.h"
#include "storage/env.h"

namespace grpc {
class Service;
}

namespace kappa::controller {

struct voter {
  int32_t id = 0;
  std::string internal_address;
};

// Parses "1@127.0.0.1:19093,2@127.0.0.1:29093". Errors name the bad item.
Result<std::vector<voter>> parse_voters(const std::string& spec);

struct leader_entry {
  std::string topic;
  int32_t partition = 0;
  int32_t leader = -1;
  int64_t epoch = -1;
  std::vector<int32_t> in_sync;
};

struct cluster_view {
  std::shared_ptr<const metadata_image> image;  // never null
  std::vector<int32_t> live;                    // as of the last heartbeat answer
  std::vector<leader_entry> leaders;            // as of the last heartbeat answer
  int32_t controller_leader = -1;
};

struct controller_options {
  int32_t self = 1;
  std::string cluster_id;
  std::string client_address;    // advertised
  std::string internal_address;
  std::vector<voter> voters;
  std::string data_dir;          // holds __kappa/controller/ on voters
  storage::env* env = nullptr;
  bool durable = true;
};

// What a committed command produced.
struct submit_result {
  int64_t last_offset = -1;        // its last record's metadata offset; -1 if it needed none
  int64_t producer_id_start = -1;  // allocate_producer_ids_command: the block's first id
};

class controller {
 public:
  // Executors: `strand` serialises the controller group; `flusher` runs its
  // fsyncs (see replication/group/raft_group.h).
  using executor_fn = std::function<void(std::function<void()>)>;
  static Result<std::unique_ptr<controller>> start(controller_options o, executor_fn strand,
                                                   executor_fn flusher,
                                                   replication::transport& net);
  ~controller();

  // The gRPC service (kappa.internal.v1.Controller) to register on the
  // internal listener.
  grpc::Service* service();
  // The __controller group's messages from the transport, and the tick.
  void step(raft::message m);
  void tick();

  // Runs `cmd` on the controller leader; `done` gets ok once its records are
  // committed (and applied here), or the error (errc numbers as in plan();
  // not_controller/request_timed_out when no leader answered by the deadline).
  void submit(command cmd, int64_t timeout_ms, std::function<void(Status)> done);
  // The same, with what the command produced.
  void submit_for_result(command cmd, int64_t timeout_ms,
                         std::function<void(Result<submit_result>)> done);
  // Reserves `count` producer ids cluster-wide; `done` gets the first.
  void allocate_producer_ids(int64_t count, int64_t timeout_ms,
                             std::function<void(Result<int64_t>)> done);

  cluster_view view() const;
  // Called (on the controller strand) after every image change.
  void on_image(std::function<void(std::shared_ptr<const metadata_image>)> f);
  // Called by the broker before each heartbeat: the partitions it leads.
  void set_leader_reporter(std::function<std::vector<leader_entry>()> f);

  // Stops: fails queued submits (not_controller), answers held calls,
  // cancels client calls and waits (bounded) for them, stops the group.
  // Idempotent. Call it before shutting the gRPC server down.
  void shutdown();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kappa::controller
