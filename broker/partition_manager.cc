#include "broker/partition_manager.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "broker/errc.h"
#include "broker/metrics.h"
#include "broker/producer_ids.h"
#include "broker/runtime.h"
#include "broker/topic_name.h"
#include "storage/log_manager.h"

namespace kappa::broker {

struct partition_manager::impl {
  storage::env& env = storage::posix_env();
  std::unique_ptr<storage::log_manager> logs;
  std::unique_ptr<topic_store> store;
  std::unique_ptr<producer_ids> pids;
  std::string producers_dir;

  mutable std::shared_mutex mu;  // guards `partitions`
  std::map<std::string, std::vector<std::shared_ptr<partition>>> partitions;
  std::mutex admin_mu;  // serialises topic creation/deletion/config changes
  std::atomic<bool> stopping{false};
  bool closed = false;
};

partition_manager::partition_manager(const broker_config& config, metrics& m)
    : config_(config), metrics_(m) {
  int workers = config.worker_threads > 0 ? config.worker_threads
                                          : int(std::max(1u, std::thread::hardware_concurrency()));
  rt_ = std::make_unique<runtime>(workers, config.flush_threads);
  impl_ = std::make_unique<impl>();
}

partition_manager::~partition_manager() {
  if (!impl_->closed) (void)close();
}

Result<std::unique_ptr<partition_manager>> partition_manager::open(const broker_config& config,
                                                                   metrics& m) {
  std::unique_ptr<partition_manager> pm(new partition_manager(config, m));
  impl& i = *pm->impl_;
  KAPPA_RETURN_IF_ERROR(i.env.create_dirs(config.data_dir));
  storage::log_manager_options opts;
  opts.default_config = storage_config_for(config.default_log);
  KAPPA_ASSIGN_OR_RETURN(i.logs, storage::log_manager::open(i.env, config.data_dir, opts));
  const std::string meta = config.data_dir + "/__kappa";
  i.producers_dir = meta + "/producers";
  KAPPA_RETURN_IF_ERROR(i.env.create_dirs(i.producers_dir));
  KAPPA_ASSIGN_OR_RETURN(i.store, open_file_topic_store(i.env, meta + "/topics"));
  KAPPA_ASSIGN_OR_RETURN(i.pids, producer_ids::open(i.env, meta + "/producer_ids"));

  std::map<std::string, int32_t> known;
  for (const topic_info& t : i.store->list()) {
    KAPPA_RETURN_IF_ERROR(pm->open_topic(t));
    known[t.name] = t.partitions;
  }
  // Directories of deleted topics (a delete cut short by a crash) go now.
  for (const auto& id : i.logs->partitions()) {
    auto it = known.find(id.topic);
    if (it == known.end() || id.partition >= it->second) {
      spdlog::warn("removing {}: its topic or partition no longer exists", id.dir_name());
      KAPPA_RETURN_IF_ERROR(i.logs->remove(id));
    }
  }
  m.set_partition_source([pm = pm.get()] {
    std::vector<partition_sample> out;
    for (const auto& t : pm->topics()) {
      for (const auto& p : pm->partitions_of(t.name)) {
        out.push_back({p->id().topic, p->id().partition, p->log_start_offset(),
                       p->log_end_offset(), p->high_watermark(), p->segment_count(),
                       int64_t(p->size_bytes())});
      }
    }
    return out;
  });
  return pm;
}

Status partition_manager::open_topic(const topic_info& t) {
  const storage::log_config cfg = effective_log_config(config_.default_log, t.configs);
  std::vector<std::shared_ptr<partition>> parts;
  for (int32_t p = 0; p < t.partitions; ++p) {
    storage::partition_id id{t.name, p};
    KAPPA_ASSIGN_OR_RETURN(storage::log * l, impl_->logs->get_or_create(id, storage_config_for(cfg)));
    if (Status st = l->status(); !st.ok()) {
      // Corruption found at recovery: refuse to serve it rather than lose it.
      spdlog::error("{}: {}", id.dir_name(), st.message());
    }
    KAPPA_ASSIGN_OR_RETURN(auto part, partition::open(id, l, cfg,
                                                      impl_->producers_dir + "/" + id.dir_name(),
                                                      *rt_, metrics_, impl_->env));
    parts.push_back(std::move(part));
  }
  std::unique_lock lk(impl_->mu);
  impl_->partitions[t.name] = std::move(parts);
  return Status();
}

bool partition_manager::shutting_down() const { return impl_->stopping.load(); }

std::shared_ptr<partition> partition_manager::get(const std::string& topic, int32_t p) const {
  std::shared_lock lk(impl_->mu);
  auto it = impl_->partitions.find(topic);
  if (it == impl_->partitions.end() || p < 0 || size_t(p) >= it->second.size()) return nullptr;
  return it->second[size_t(p)];
}

std::optional<topic_info> partition_manager::topic(const std::string& name) const {
  return impl_->store->get(name);
}

std::vector<topic_info> partition_manager::topics() const { return impl_->store->list(); }

std::vector<std::shared_ptr<partition>> partition_manager::partitions_of(
    const std::string& topic) const {
  std::shared_lock lk(impl_->mu);
  auto it = impl_->partitions.find(topic);
  return it == impl_->partitions.end() ? std::vector<std::shared_ptr<partition>>{} : it->second;
}

Status partition_manager::create_topic(const create_topic_request& req) {
  KAPPA_RETURN_IF_ERROR(validate_topic_name(req.name));
  const int32_t n = req.partitions == 0 ? config_.default_partitions : req.partitions;
  if (n < 0 || n > config_.max_partitions_per_topic) {
    return error(errc::invalid_partitions,
                 "partitions must be in [1, " + std::to_string(config_.max_partitions_per_topic) +
                     "] (0 = the default " + std::to_string(config_.default_partitions) +
                     "), got " + std::to_string(req.partitions));
  }
  const int32_t rf = req.replication_factor == 0 ? config_.default_replication_factor
                                                 : req.replication_factor;
  if (rf != 1) {
    return error(errc::invalid_replication_factor,
                 "replication factor " + std::to_string(rf) +
                     " exceeds the 1 broker available (this is a single-node broker)");
  }
  KAPPA_RETURN_IF_ERROR(validate_topic_configs(req.configs));
  std::lock_guard admin(impl_->admin_mu);
  if (impl_->store->get(req.name)) {
    return error(errc::topic_already_exists, "topic '" + req.name + "' already exists");
  }
  int64_t total = 0;
  for (const auto& t : impl_->store->list()) total += t.partitions;
  if (total + n > config_.max_partitions_total) {
    return error(errc::policy_violation,
                 "the broker would hold " + std::to_string(total + n) +
                     " partitions; --max-partitions is " +
                     std::to_string(config_.max_partitions_total));
  }
  if (req.validate_only) return Status();
  topic_info t{req.name, n, rf, req.configs};
  KAPPA_RETURN_IF_ERROR(impl_->store->create(t));
  Status st = open_topic(t);
  if (!st.ok()) spdlog::error("topic {} created but not opened: {}", t.name, st.message());
  else spdlog::info("created topic {} with {} partitions", t.name, n);
  return st;
}

Status partition_manager::auto_create(const std::string& name) {
  if (!config_.auto_create_topics || validate_topic_name(name).ok() == false) {
    return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  }
  create_topic_request req;
  req.name = name;
  Status st = create_topic(req);
  if (st.code() == errc::topic_already_exists) return Status();
  return st;
}

Status partition_manager::delete_topic(const std::string& name) {
  std::lock_guard admin(impl_->admin_mu);
  KAPPA_RETURN_IF_ERROR(impl_->store->remove(name));  // durable first: a crash finishes it at start
  std::vector<std::shared_ptr<partition>> parts;
  {
    std::unique_lock lk(impl_->mu);
    parts = std::move(impl_->partitions[name]);
    impl_->partitions.erase(name);
  }
  // Each partition retires on its strand; wait so the name is reusable at once.
  std::vector<std::promise<void>> done(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    storage::partition_id id = parts[k]->id();
    parts[k]->retire(
        [this, id] {
          if (Status st = impl_->logs->remove(id); !st.ok()) {
            spdlog::error("removing {}: {}", id.dir_name(), st.message());
          }
        },
        [&done, k] { done[k].set_value(); });
  }
  for (auto& d : done) d.get_future().wait();
  spdlog::info("deleted topic {}", name);
  return Status();
}

Status partition_manager::alter_configs(const std::string& name, const topic_overrides& set,
                                        const std::vector<std::string>& remove,
                                        bool validate_only) {
  KAPPA_RETURN_IF_ERROR(validate_topic_configs(set));
  std::lock_guard admin(impl_->admin_mu);
  auto t = impl_->store->get(name);
  if (!t) return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  topic_overrides next = t->configs;
  for (const auto& [k, v] : set) next[k] = v;
  for (const auto& k : remove) {
    KAPPA_RETURN_IF_ERROR(validate_topic_configs({{k, k == "flush.policy" ? "always" : "1000000"}}));
    next.erase(k);
  }
  if (validate_only) return Status();
  KAPPA_RETURN_IF_ERROR(impl_->store->set_configs(name, next));
  const storage::log_config cfg = effective_log_config(config_.default_log, next);
  for (const auto& p : partitions_of(name)) p->set_config(cfg);
  return Status();
}

Result<int64_t> partition_manager::allocate_producer_id() { return impl_->pids->allocate(); }

void partition_manager::begin_shutdown() {
  impl_->stopping.store(true);
  std::shared_lock lk(impl_->mu);
  for (const auto& [_, parts] : impl_->partitions) {
    for (const auto& p : parts) p->wake_all();
  }
}

Status partition_manager::close() {
  if (impl_->closed) return Status();
  impl_->closed = true;
  impl_->stopping.store(true);
  metrics_.set_partition_source(nullptr);
  // Appends already queued finish (the pools run out of work, then stop).
  rt_->admin.join();
  rt_->workers.join();
  rt_->flushers.join();
  Status first;
  {
    std::shared_lock lk(impl_->mu);
    for (const auto& [_, parts] : impl_->partitions) {
      for (const auto& p : parts) {
        Status st = p->save_producer_state();
        if (!st.ok()) spdlog::error("{}: producer state snapshot: {}", p->id().dir_name(), st.message());
      }
    }
  }
  if (impl_->logs) first = impl_->logs->close();
  impl_->partitions.clear();
  return first;
}

}  // namespace kappa::broker
