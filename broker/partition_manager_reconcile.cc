// The reconciler: makes this broker's replicas match the metadata image, and
// drives the reassignments of the partitions it leads. One thread, so it may
// block (log creation, waiting for a retiring replica) without holding a
// worker that a partition strand needs.
#include <spdlog/spdlog.h>

#include <fmt/ranges.h>

#include <future>

#include "broker/errc.h"
#include "broker/partition_manager_impl.h"
#include "broker/runtime.h"
#include "broker/wire.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {
namespace {

bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The topic id a partition directory was created for; 0 when it has no
// (readable) marker.
uint64_t read_marker(storage::env& e, const std::string& path) {
  auto contents = storage::read_metadata_file(e, path);
  if (!contents.ok()) return 0;
  wire_reader r(contents->payload);
  uint64_t id = r.u64();
  return r.ok() && r.at_end() ? id : 0;
}

}  // namespace

void partition_manager::impl::reconciler_loop() {
  std::shared_ptr<const controller::metadata_image> applied;
  while (!stop_threads.load()) {
    std::shared_ptr<const controller::metadata_image> img;
    {
      std::unique_lock lk(rec_mu);
      rec_cv.wait_for(lk, std::chrono::milliseconds(kReconcileIntervalMs),
                      [&] { return stop_threads.load() || pending_image != applied; });
      if (stop_threads.load()) return;
      img = pending_image;
    }
    if (!img) continue;
    if (img != applied) {
      apply_image(img);
      applied = img;
      reconciled_offset.store(img->offset);
    }
    drive_reassignments(*img);
  }
}

void partition_manager::impl::apply_image(
    const std::shared_ptr<const controller::metadata_image>& img) {
  const int32_t me = self->config_.node_id;
  // Transport peers: every registered broker.
  for (const auto& [id, b] : img->brokers) {
    if (id == me || b.internal_address.empty()) continue;
    transport->set_peer({raft::node_id(uint64_t(id)), b.internal_address});
    peers.insert(id);
  }

  struct wanted {
    uint64_t topic_id;
    const controller::partition_info* info;
    const std::map<std::string, std::string>* configs;
  };
  std::map<storage::partition_id, wanted> want;
  for (const auto& [name, t] : img->topics) {
    for (size_t p = 0; p < t.partitions.size(); ++p) {
      const auto& info = t.partitions[p];
      if (contains(info.replicas, me) || contains(info.target, me)) {
        want.emplace(storage::partition_id{name, int32_t(p)}, wanted{t.id, &info, &t.configs});
      }
    }
  }

  // Replicas that no longer belong here go first, so a re-created topic
  // starts from an empty directory.
  std::vector<storage::partition_id> gone;
  {
    std::shared_lock lk(mu);
    for (const auto& [id, _] : partitions) {
      auto w = want.find(id);
      if (w == want.end() || w->second.topic_id != topic_ids.at(id)) gone.push_back(id);
    }
  }
  for (const auto& id : gone) retire_replica(id);

  for (const auto& [id, w] : want) {
    bool hosted;
    {
      std::shared_lock lk(mu);
      hosted = partitions.count(id) > 0;
    }
    if (hosted) continue;
    Status st = open_replica(id, w.topic_id, *w.info,
                             topic_overrides(w.configs->begin(), w.configs->end()));
    if (!st.ok()) spdlog::error("{}: cannot open the replica: {}", id.dir_name(), st.message());
  }

  // Config changes reach the hosted replicas.
  for (const auto& [name, t] : img->topics) {
    topic_overrides cfg(t.configs.begin(), t.configs.end());
    auto it = applied_configs.find(name);
    if (it != applied_configs.end() && it->second == cfg) continue;
    const bool first = it == applied_configs.end();
    applied_configs[name] = cfg;
    if (first) continue;  // opened with it
    const storage::log_config lc = effective_log_config(self->config_.default_log, cfg);
    for (const auto& p : self->partitions_of(name)) p->set_config(lc);
  }
  for (auto it = applied_configs.begin(); it != applied_configs.end();) {
    it = img->topics.count(it->first) ? std::next(it) : applied_configs.erase(it);
  }
  remove_orphans(*img);
}

Status partition_manager::impl::open_replica(const storage::partition_id& id, uint64_t topic_id,
                                             const controller::partition_info& info,
                                             const topic_overrides& configs) {
  const int32_t me = self->config_.node_id;
  const std::string& data_dir = self->config_.data_dir;
  const std::string marker = topic_id_marker(data_dir, id);
  if (logs->get(id)) {
    const uint64_t on_disk = read_marker(*env, marker);
    if (on_disk != 0 && on_disk != topic_id) {
      spdlog::info("{}: removing the directory of an earlier topic of that name (id {}, now {})",
                   id.dir_name(), on_disk, topic_id);
      KAPPA_RETURN_IF_ERROR(logs->remove(id));
    }
  }
  const storage::log_config cfg = effective_log_config(self->config_.default_log, configs);
  KAPPA_ASSIGN_OR_RETURN(storage::log * l, logs->get_or_create(id, storage_config_for(cfg)));
  if (Status st = l->status(); !st.ok()) {
    spdlog::error("{}: recovery found damage: {}", id.dir_name(), st.message());
  }
  if (read_marker(*env, marker) != topic_id) {
    wire_writer w;
    w.u64(topic_id);
    KAPPA_RETURN_IF_ERROR(storage::write_metadata_file(*env, marker, 1, w.take()));
  }
  partition_options o;
  o.id = id;
  o.log = l;
  o.config = cfg;
  o.self = me;
  // A replica added by a reassignment joins as a learner and learns the
  // membership from the leader.
  if (contains(info.replicas, me)) o.replicas = info.replicas;
  o.preferred_leader = !info.replicas.empty() && info.replicas[0] == me && info.target.empty();
  KAPPA_ASSIGN_OR_RETURN(auto part,
                         partition::open(o, self->rt(), self->stats(), *env, *transport));
  {
    std::unique_lock lk(mu);
    partitions[id] = std::move(part);
    topic_ids[id] = topic_id;
  }
  spdlog::info("{}: replica opened (replicas {})", id.dir_name(),
               fmt::join(info.replicas, ","));
  return Status();
}

void partition_manager::impl::retire_replica(const storage::partition_id& id) {
  std::shared_ptr<partition> p;
  {
    std::unique_lock lk(mu);
    auto it = partitions.find(id);
    if (it == partitions.end()) return;
    p = std::move(it->second);
    partitions.erase(it);
    topic_ids.erase(id);
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  p->retire(
      [this, id] {
        if (Status st = logs->remove(id); !st.ok()) {
          spdlog::error("removing {}: {}", id.dir_name(), st.message());
        }
      },
      [done] { done->set_value(); });
  if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    spdlog::error("{}: the replica did not retire within 30 s", id.dir_name());
    return;
  }
  spdlog::info("{}: replica removed", id.dir_name());
}

void partition_manager::impl::remove_orphans(const controller::metadata_image& img) {
  for (const auto& id : logs->partitions()) {
    {
      std::shared_lock lk(mu);
      if (partitions.count(id)) continue;
    }
    const uint64_t on_disk = read_marker(*env, topic_id_marker(self->config_.data_dir, id));
    // Only what the image has provably seen created and then dropped: a
    // directory of a topic the image has not reached yet stays.
    if (on_disk == 0 || on_disk >= img.next_topic_id) continue;
    auto t = img.topics.find(id.topic);
    if (t != img.topics.end() && t->second.id == on_disk) continue;
    spdlog::warn("removing {}: its topic was deleted", id.dir_name());
    if (Status st = logs->remove(id); !st.ok()) {
      spdlog::error("removing {}: {}", id.dir_name(), st.message());
    }
  }
}

void partition_manager::impl::drive_reassignments(const controller::metadata_image& img) {
  const int32_t me = self->config_.node_id;
  for (const auto& [name, t] : img.topics) {
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& info = t.partitions[pi];
      if (info.target.empty()) continue;
      storage::partition_id id{name, int32_t(pi)};
      auto p = self->get(name, int32_t(pi));
      if (!p || p->raft_status().leader != raft::node_id(uint64_t(me))) continue;
      {
        std::lock_guard lk(rec_mu);
        if (!reassigning.insert(id).second) continue;
      }
      auto clear = [this, id] {
        std::lock_guard lk(rec_mu);
        reassigning.erase(id);
      };
      p->reassign_step(info.target, [this, id, target = info.target, clear](Result<bool> r) {
        if (!r.ok()) {
          spdlog::warn("{}: reassignment step: {}", id.dir_name(), r.status().message());
          clear();
          return;
        }
        if (!*r) {
          clear();
          return;
        }
        auto* c = ctl_ptr.load();
        if (!c) {
          clear();
          return;
        }
        spdlog::info("{}: membership reached the target; completing the reassignment",
                     id.dir_name());
        c->submit(controller::complete_reassign_command{id.topic, id.partition, target},
                  kAdminTimeoutMs, [id, clear](Status st) {
                    if (!st.ok()) {
                      spdlog::warn("{}: completing the reassignment: {}", id.dir_name(),
                                   st.message());
                    }
                    clear();
                  });
      });
    }
  }
}

}  // namespace kappa::broker
