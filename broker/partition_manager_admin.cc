// Admin calls: validated here as on a single broker, carried out by the
// controller, answered after commit once this broker's state reflects them.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include "broker/clock.h"
#include "broker/errc.h"
#include "broker/partition_manager_impl.h"
#include "broker/topic_name.h"

namespace kappa::broker {
namespace {

constexpr int64_t kLeaderWaitMs = 5000;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

bool partition_manager::impl::wait_reconciled(int64_t offset, int64_t timeout_ms) {
  const int64_t deadline = steady_ms() + timeout_ms;
  while (reconciled_offset.load() < offset) {
    if (steady_ms() >= deadline || stopping.load()) return false;
    sleep_ms(2);
  }
  return true;
}

Status partition_manager::impl::submit_and_wait(controller::command cmd, int64_t timeout_ms) {
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  ctl->submit(std::move(cmd), timeout_ms, [done](Status st) { done->set_value(std::move(st)); });
  // The controller answers by its deadline; the margin only guards a bug.
  if (fut.wait_for(std::chrono::milliseconds(timeout_ms + 5000)) != std::future_status::ready) {
    return error(errc::request_timed_out, "the controller did not answer within " +
                                              std::to_string(timeout_ms) + " ms");
  }
  Status st = as_broker_status(fut.get());
  if (!st.ok()) return st;
  // Committed and applied to the image here; now to the local replicas.
  const int64_t offset = ctl->view().image->offset;
  if (!wait_reconciled(offset, kReconcileWaitMs)) {
    spdlog::warn("metadata offset {} committed but not yet applied to the local replicas", offset);
  }
  return Status();
}

Status partition_manager::create_topic(const create_topic_request& req) {
  KAPPA_RETURN_IF_ERROR(validate_topic_name(req.name));
  if (!req.internal && is_reserved_topic(req.name)) {
    return error(errc::invalid_topic, "topic '" + req.name +
                                          "' is reserved: the broker creates it when it needs it");
  }
  const int32_t n = req.partitions == 0 ? config_.default_partitions : req.partitions;
  if (n < 1 || n > config_.max_partitions_per_topic) {
    return error(errc::invalid_partitions,
                 "partitions must be in [1, " + std::to_string(config_.max_partitions_per_topic) +
                     "] (0 = the default " + std::to_string(config_.default_partitions) +
                     "), got " + std::to_string(req.partitions));
  }
  const int32_t rf = req.replication_factor == 0 ? config_.default_replication_factor
                                                 : req.replication_factor;
  auto v = view();
  if (rf < 1 || (!v.live.empty() && size_t(rf) > v.live.size())) {
    return error(errc::invalid_replication_factor,
                 "replication factor " + std::to_string(rf) + " must be in [1, " +
                     std::to_string(v.live.size()) + "]: " + std::to_string(v.live.size()) +
                     " live broker" + (v.live.size() == 1 ? "" : "s"));
  }
  KAPPA_RETURN_IF_ERROR(validate_topic_configs(req.configs));
  std::lock_guard admin(impl_->admin_mu);
  v = view();
  if (v.image->topics.count(req.name)) {
    return error(errc::topic_already_exists, "topic '" + req.name + "' already exists");
  }
  int64_t total = 0;
  for (const auto& [_, t] : v.image->topics) total += int64_t(t.partitions.size());
  if (total + n > config_.max_partitions_total) {
    return error(errc::policy_violation,
                 "the cluster would hold " + std::to_string(total + n) +
                     " partitions; --max-partitions is " +
                     std::to_string(config_.max_partitions_total));
  }
  if (req.validate_only) return Status();
  controller::create_topic_command cmd;
  cmd.name = req.name;
  cmd.partitions = n;
  cmd.replication_factor = rf;
  cmd.configs = std::map<std::string, std::string>(req.configs.begin(), req.configs.end());
  KAPPA_RETURN_IF_ERROR(impl_->submit_and_wait(std::move(cmd), kAdminTimeoutMs));
  spdlog::info("created topic {} with {} partitions, replication factor {}", req.name, n, rf);
  // Produce right after creation should find a leader: wait (bounded) until
  // every local replica knows one.
  const int64_t deadline = steady_ms() + kLeaderWaitMs;
  for (const auto& p : partitions_of(req.name)) {
    while (p->raft_status().leader == raft::no_node && steady_ms() < deadline) sleep_ms(2);
  }
  return Status();
}

Status partition_manager::auto_create(const std::string& name) {
  if (!config_.auto_create_topics || !validate_topic_name(name).ok()) {
    return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  }
  create_topic_request req;
  req.name = name;
  Status st = create_topic(req);
  if (st.code() == errc::topic_already_exists) return Status();
  return st;
}

Status partition_manager::delete_topic(const std::string& name) {
  KAPPA_RETURN_IF_ERROR(validate_topic_name(name));
  if (is_reserved_topic(name)) {
    return error(errc::invalid_topic, "topic '" + name + "' is internal and cannot be deleted");
  }
  std::lock_guard admin(impl_->admin_mu);
  if (!view().image->topics.count(name)) {
    return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  }
  KAPPA_RETURN_IF_ERROR(
      impl_->submit_and_wait(controller::delete_topic_command{name}, kAdminTimeoutMs));
  spdlog::info("deleted topic {}", name);
  return Status();
}

Status partition_manager::alter_configs(const std::string& name, const topic_overrides& set,
                                        const std::vector<std::string>& remove,
                                        bool validate_only) {
  KAPPA_RETURN_IF_ERROR(validate_topic_configs(set));
  std::lock_guard admin(impl_->admin_mu);
  auto t = topic(name);
  if (!t) return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  topic_overrides next = t->configs;
  for (const auto& [k, v] : set) next[k] = v;
  for (const auto& k : remove) {
    KAPPA_RETURN_IF_ERROR(validate_topic_configs({{k, k == "flush.policy" ? "always" : "1000000"}}));
    next.erase(k);
  }
  if (validate_only) return Status();
  controller::alter_configs_command cmd;
  cmd.name = name;
  cmd.configs = std::map<std::string, std::string>(next.begin(), next.end());
  return impl_->submit_and_wait(std::move(cmd), kAdminTimeoutMs);
}

Status partition_manager::reassign(const std::string& topic_name, int32_t p,
                                   const std::vector<int32_t>& replicas) {
  KAPPA_RETURN_IF_ERROR(validate_topic_name(topic_name));
  auto t = topic(topic_name);
  if (!t || p < 0 || p >= t->partitions) {
    return error(errc::unknown_topic_or_partition,
                 "unknown topic or partition " + topic_name + "-" + std::to_string(p));
  }
  if (replicas.empty()) return error(errc::invalid_request, "the new replica set is empty");
  if (std::set<int32_t>(replicas.begin(), replicas.end()).size() != replicas.size()) {
    return error(errc::invalid_request, "the new replica set names a broker twice");
  }
  auto img = view().image;
  for (int32_t id : replicas) {
    if (!img->brokers.count(id)) {
      return error(errc::invalid_request, "broker " + std::to_string(id) + " is not registered");
    }
  }
  return impl_->submit_and_wait(controller::reassign_command{topic_name, p, replicas},
                                kAdminTimeoutMs);
}

std::vector<partition_manager::leader_move> partition_manager::rebalance_leaders(
    int64_t timeout_ms) {
  const raft::node_id me{uint64_t(config_.node_id)};
  auto img = view().image;
  std::vector<leader_move> moves;
  std::vector<std::shared_ptr<std::promise<Status>>> waits;
  std::vector<std::pair<storage::partition_id, std::shared_ptr<partition>>> parts;
  {
    std::shared_lock lk(impl_->mu);
    parts.assign(impl_->partitions.begin(), impl_->partitions.end());
  }
  for (const auto& [id, p] : parts) {
    auto t = img->topics.find(id.topic);
    if (t == img->topics.end() || size_t(id.partition) >= t->second.partitions.size()) continue;
    const auto& replicas = t->second.partitions[size_t(id.partition)].replicas;
    if (replicas.empty() || replicas[0] == config_.node_id) continue;
    auto st = p->raft_status();
    if (st.leader != me) continue;
    const raft::node_id preferred{uint64_t(replicas[0])};
    if (std::find(st.in_sync.begin(), st.in_sync.end(), preferred) == st.in_sync.end()) continue;
    auto done = std::make_shared<std::promise<Status>>();
    p->transfer_leadership(replicas[0], [done](Status s) { done->set_value(std::move(s)); });
    moves.push_back({id.topic, id.partition, replicas[0], Status()});
    waits.push_back(done);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (size_t k = 0; k < moves.size(); ++k) {
    auto fut = waits[k]->get_future();
    if (fut.wait_until(deadline) != std::future_status::ready) {
      moves[k].status = error(errc::request_timed_out, "the leadership transfer did not finish in time");
    } else {
      moves[k].status = as_broker_status(fut.get());
    }
  }
  return moves;
}

Result<int64_t> partition_manager::allocate_producer_id() {
  impl& i = *impl_;
  std::lock_guard lk(i.pid_alloc_mu);
  if (i.pid_next < i.pid_end) return i.pid_next++;
  // The controller answers with the first id of the block it reserved for
  // this call, so ids need no per-broker tag to stay unique cluster-wide.
  auto done = std::make_shared<std::promise<Result<int64_t>>>();
  auto fut = done->get_future();
  i.ctl->allocate_producer_ids(kProducerIdBlockSize, kAdminTimeoutMs, [done](Result<int64_t> r) {
    done->set_value(std::move(r));
  });
  // The controller answers by its deadline; the margin only guards a bug.
  if (fut.wait_for(std::chrono::milliseconds(kAdminTimeoutMs + 5000)) !=
      std::future_status::ready) {
    return error(errc::request_timed_out, "the controller did not answer within " +
                                              std::to_string(kAdminTimeoutMs) + " ms");
  }
  Result<int64_t> first = fut.get();
  if (!first.ok()) return as_broker_status(first.status());
  if (*first < 0) {
    return error(errc::unknown_server_error, "the controller returned no producer id block");
  }
  i.pid_next = *first;
  i.pid_end = *first + kProducerIdBlockSize;
  return i.pid_next++;
}

}  // namespace kappa::broker
