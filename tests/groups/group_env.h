// group_env: one test's brokers (a tests/cluster harness of 1 or 3 real
// kappad processes, with the coordinator's timers shortened where kappad has
// the flags), an admin client, and a directory for member logs inside the
// cluster's directory. fail() keeps that directory and shows the brokers'
// and members' log tails, so a failing case can be read afterwards.
//
// Thread safety: driven by the test thread.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kappa/admin.h"
#include "tests/cluster/cluster.h"
#include "tests/groups/group_harness.h"

namespace kappa_groups {

inline kappa_cluster::cluster_options group_cluster_options(int nodes) {
  kappa_cluster::cluster_options o;
  o.nodes = nodes;
  o.extra_flags = kappad_group_flags(kappa_cluster::kappad_binary());
  return o;
}

class group_env {
 public:
  explicit group_env(int nodes) : cluster(group_cluster_options(nodes)) {
    members_dir = cluster.dir() + "/members";
    std::filesystem::create_directories(members_dir);
    cluster.start_all();
    std::vector<int> ids;
    for (int id = 1; id <= nodes; ++id) ids.push_back(id);
    if (!cluster.wait_listening(ids, 30000)) fail("brokers did not start listening within 30 s", {});
    auto a = kappa::admin::create(client_config_for(cluster.bootstrap()));
    if (!a.ok()) fail("admin: " + a.status().message(), {});
    admin = std::move(a).value();
  }

  std::string bootstrap() const { return cluster.bootstrap(); }

  // Waits until every broker itself describes every broker alive. A broker
  // sizes __consumer_offsets from its own view of the live brokers when the
  // first FindCoordinator reaches it: with a stale view (2 of 3 live) the
  // topic gets 2 replicas and the loss of one broker stops the group.
  void wait_all_live(int64_t timeout_ms = 20000) {
    const int n = cluster.size();
    for (int id = 1; id <= n; ++id) {
      auto a = kappa::admin::create(client_config_for(cluster.client_address(id)));
      if (!a.ok()) fail("admin: " + a.status().message(), {});
      std::string last;
      const bool ok = wait_until(
          [&] {
            auto d = a.value()->describe_cluster();
            if (!d.ok()) {
              last = d.status().message();
              return false;
            }
            int alive = 0;
            for (const auto& b : d.value().brokers) alive += b.alive ? 1 : 0;
            last = std::to_string(alive) + " alive";
            return alive == n;
          },
          timeout_ms);
      if (!ok) fail("broker " + std::to_string(id) + " does not see every broker alive: " + last, {});
    }
  }

  // The replica count of every __consumer_offsets partition (created by the
  // first FindCoordinator, e.g. a describe_group).
  std::vector<size_t> offsets_topic_replicas() {
    std::vector<size_t> out;
    auto d = admin->describe_topics({"__consumer_offsets"}, /*include_internal=*/true);
    if (!d.ok() || d.value().size() != 1) return out;
    for (const auto& p : d.value()[0].partitions) out.push_back(p.replicas.size());
    return out;
  }

  std::unique_ptr<member_process> member(member_spec spec) {
    return std::make_unique<member_process>(members_dir, bootstrap(), std::move(spec));
  }

  void topic(const std::string& name, int32_t partitions, int32_t rf) {
    const std::string err = create_topic(*admin, name, partitions, rf, 30000);
    if (!err.empty()) fail(err, {});
  }

  kappa::group_description stable(const std::string& group, size_t members, int partitions,
                                   const std::vector<member_history>& logs, int64_t timeout_ms = 20000) {
    std::string last;
    auto d = wait_group_stable(*admin, group, members, partitions, timeout_ms, &last);
    if (!d) {
      fail("group " + group + " not Stable with " + std::to_string(members) + " members over " +
               std::to_string(partitions) + " partitions within " + std::to_string(timeout_ms) +
               " ms; last seen: " + last,
           logs);
    }
    return *d;
  }

  // Fails the test when `violations` is not empty.
  void require_none(const std::string& what, const std::vector<std::string>& violations,
                    const std::vector<member_history>& logs) {
    if (violations.empty()) return;
    std::string msg = what + ":";
    for (const auto& v : violations) msg += "\n  " + v;
    fail(msg, logs);
  }

  [[noreturn]] void fail(const std::string& what, const std::vector<member_history>& logs) {
    cluster.keep();
    FAIL(what << "\n" << dump_logs(logs, 25) << cluster.describe_logs(30) << "(member logs in " << members_dir
              << ")");
    throw std::logic_error("unreachable");  // FAIL throws; this keeps [[noreturn]] honest
  }

  kappa_cluster::cluster cluster;
  std::string members_dir;
  std::unique_ptr<kappa::admin> admin;
};

inline std::vector<member_history> histories(const std::vector<member_process*>& members) {
  std::vector<member_history> out;
  for (auto* m : members) out.push_back(m->history());
  return out;
}

}  // namespace kappa_groups
