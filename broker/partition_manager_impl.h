// partition_manager's private state, shared by its .cc files
// (partition_manager.cc: startup, shutdown, accessors, the tick thread;
// partition_manager_admin.cc: admin calls through the controller;
// partition_manager_reconcile.cc: the image -> local replicas reconciler).
// Not for any other file.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "broker/partition_manager.h"
#include "replication/controller/controller.h"
#include "replication/transport/grpc_transport.h"
#include "storage/log_manager.h"

namespace grpc {
class Server;
}

namespace kappa::broker {

struct partition_manager::impl {
  partition_manager* self = nullptr;
  std::unique_ptr<storage::env> power_loss_env;  // --test-power-loss only
  storage::env* env = nullptr;
  std::unique_ptr<storage::log_manager> logs;
  std::string internal_address;  // bound, host:port

  std::unique_ptr<replication::grpc_transport> transport;
  std::unique_ptr<controller::controller> ctl;
  std::atomic<controller::controller*> ctl_ptr{nullptr};  // set once started (transport handler)
  std::unique_ptr<grpc::Server> internal_server;
  std::set<int32_t> peers;  // transport peers set so far (reconciler thread)

  // Hosted replicas and the image topic id each belongs to.
  mutable std::shared_mutex mu;
  std::map<storage::partition_id, std::shared_ptr<partition>> partitions;
  std::map<storage::partition_id, uint64_t> topic_ids;
  std::map<std::string, topic_overrides> applied_configs;  // reconciler thread only

  // Reconciler: the newest image, handed over by on_image.
  std::mutex rec_mu;
  std::condition_variable rec_cv;
  std::shared_ptr<const controller::metadata_image> pending_image;
  std::atomic<int64_t> reconciled_offset{-1};
  std::set<storage::partition_id> reassigning;  // guarded by rec_mu
  std::thread reconciler;
  std::thread ticker;
  std::atomic<bool> stop_threads{false};
  std::mutex tick_mu;
  std::condition_variable tick_cv;

  // The current producer id block [pid_next, pid_end) from the controller
  // (untagged: the controller tells each caller its own block's first id).
  std::mutex pid_alloc_mu;  // guards both; one block request at a time
  int64_t pid_next = 0;
  int64_t pid_end = 0;

  std::mutex admin_mu;  // one admin change at a time from this broker
  std::atomic<bool> stopping{false};
  bool closed = false;

  // --- partition_manager_reconcile.cc ---
  void reconciler_loop();
  void apply_image(const std::shared_ptr<const controller::metadata_image>& img);
  void drive_reassignments(const controller::metadata_image& img);
  Status open_replica(const storage::partition_id& id, uint64_t topic_id,
                      const controller::partition_info& info, const topic_overrides& configs);
  void retire_replica(const storage::partition_id& id);
  void remove_orphans(const controller::metadata_image& img);

  // --- partition_manager_admin.cc ---
  // Submits `cmd`, waits for its commit (bounded by timeout_ms), then until
  // the reconciler has applied the image that holds it (bounded).
  Status submit_and_wait(controller::command cmd, int64_t timeout_ms);
  bool wait_reconciled(int64_t offset, int64_t timeout_ms);
};

// The directory of a partition's log and its topic id marker.
std::string partition_dir(const std::string& data_dir, const storage::partition_id& id);
std::string topic_id_marker(const std::string& data_dir, const storage::partition_id& id);

// A controller error (its errc numbers are the API's) as a broker Status;
// other statuses pass through.
Status as_broker_status(const Status& st);

inline constexpr int64_t kAdminTimeoutMs = 30000;
inline constexpr int64_t kProducerIdBlockSize = 1000;
inline constexpr int64_t kReconcileWaitMs = 10000;
inline constexpr int kReconcileIntervalMs = 200;

}  // namespace kappa::broker
