#include "broker/group/coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>

#include "broker/clock.h"
#include "broker/errc.h"
#include "broker/group/coordinator_shard.h"
#include "broker/group/high_watermarks.h"
#include "broker/metrics.h"
#include "broker/partition.h"
#include "broker/partition_manager.h"
#include "broker/topic_name.h"

namespace kappa::broker::group {
namespace {

constexpr size_t kGroupIdBytesMax = 249;
constexpr int kStatsWaitMs = 2000;
const std::string kTopic(kConsumerOffsetsTopic);

// Every group response has these three fields.
template <class Resp>
Resp error_response(v1::ErrorCode code, const std::string& message, const v1::CoordinatorHint& hint) {
  Resp r;
  r.set_error_code(code);
  r.set_error_message(message);
  if (code == v1::NOT_COORDINATOR) *r.mutable_coordinator() = hint;
  return r;
}

shard_options options_from(const broker_config& c) {
  shard_options o;
  o.default_session_timeout_ms = c.group_session_timeout_default_ms;
  o.min_session_timeout_ms = c.group_min_session_timeout_ms;
  o.max_session_timeout_ms = c.group_max_session_timeout_ms;
  o.default_rebalance_timeout_ms = c.group_rebalance_timeout_default_ms;
  o.heartbeat_interval_ms = c.group_heartbeat_interval_ms;
  o.max_group_size = c.group_max_size;
  o.offsets_retention_ms = c.offsets_retention_ms;
  return o;
}

}  // namespace

v1::ErrorCode check_group_id(const std::string& group_id, std::string* message) {
  if (group_id.empty()) {
    *message = "the group id is empty";
    return v1::INVALID_GROUP_ID;
  }
  if (group_id.size() > kGroupIdBytesMax) {
    *message = "the group id is " + std::to_string(group_id.size()) + " bytes; at most " +
               std::to_string(kGroupIdBytesMax) + " are allowed";
    return v1::INVALID_GROUP_ID;
  }
  return v1::NONE;
}

struct coordinator::impl : std::enable_shared_from_this<impl> {
  explicit impl(partition_manager& p)
      : pm(p), options(options_from(p.config())), hws(p), timer(p.rt().workers) {}

  partition_manager& pm;
  const shard_options options;
  high_watermarks hws;

  std::mutex mu;  // guards everything below
  bool stopped = false;
  asio::steady_timer timer;
  std::map<int32_t, std::shared_ptr<hosted_shard>> hosted;  // by partition
  int64_t topics_offset = -2;  // image offset topics was built from
  std::shared_ptr<const topics_view> topics = std::make_shared<topics_view>();
  int64_t last_tick_ms = 0;

  std::mutex create_mu;  // one creation of the internal topic at a time

  // --- leadership poll and ticks (timer) --------------------------------
  void arm() {
    std::lock_guard lk(mu);
    if (stopped) return;
    timer.expires_after(std::chrono::milliseconds(kPollMs));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->poll();
      self->arm();
    });
  }

      // REQUIRES: mu held. The topics of the newest image seen (`img` or newer).
  std::shared_ptr<const topics_view> topics_of(const controller::metadata_image& img) {
    if (img.offset > topics_offset) {  // never back to an older image
      auto next = std::make_shared<topics_view>();
      for (const auto& [name, t] : img.topics) {
        if (!is_internal_topic(name)) next->partitions[name] = int32_t(t.partitions.size());
      }
      topics = std::move(next);
      topics_offset = img.offset;
    }
    return topics;
  }

  std::shared_ptr<const topics_view> topics_snapshot() {
    auto img = pm.view().image;
    std::lock_guard lk(mu);
    return topics_of(*img);
  }

  void poll() {
    const auto view = pm.view();
    const auto& img = *view.image;
    std::vector<std::shared_ptr<hosted_shard>> started, dropped, to_tick;
    std::shared_ptr<const topics_view> tv;
    const int64_t now = steady_ms();
    {
      std::lock_guard lk(mu);
      if (stopped) return;
      tv = topics_of(img);
      auto t = img.topics.find(kTopic);
      const int32_t n = t == img.topics.end() ? 0 : int32_t(t->second.partitions.size());
      for (auto it = hosted.begin(); it != hosted.end();) {
        const auto& h = it->second;
        auto part = it->first < n ? pm.get(kTopic, it->first) : nullptr;
        if (!part || part.get() != h->part() || !part->is_leader() ||
            part->leader_epoch() != h->epoch()) {
          dropped.push_back(h);
          it = hosted.erase(it);
        } else {
          ++it;
        }
      }
      for (int32_t p = 0; p < n; ++p) {
        if (hosted.count(p)) continue;
        auto part = pm.get(kTopic, p);
        if (!part || !part->is_leader() || part->leader_epoch() < 0) continue;
        auto h = std::make_shared<hosted_shard>(pm, part, p, part->leader_epoch(), options);
        hosted[p] = h;
        started.push_back(h);
      }
      if (now - last_tick_ms >= kTickMs) {
        last_tick_ms = now;
        for (const auto& [_, h] : hosted) to_tick.push_back(h);
      }
    }
    for (const auto& h : dropped) {
      spdlog::info("__consumer_offsets-{}: no longer coordinator (epoch {})", h->index(), h->epoch());
      h->stop();
    }
    for (const auto& h : started) {
      spdlog::info("__consumer_offsets-{}: leader at epoch {}: loading its groups", h->index(),
                   h->epoch());
      h->start();
    }
    for (const auto& h : to_tick) h->tick(tv);
  }

  // --- routing ------------------------------------------------------------
  // The partition of `group` and its shard here (null when none).
  struct route {
    int32_t partition = -1;  // -1: the internal topic does not exist
    std::shared_ptr<hosted_shard> shard;
  };
  route find(const std::string& group) {
    auto img = pm.view().image;
    auto t = img->topics.find(kTopic);
    route r;
    if (t == img->topics.end() || t->second.partitions.empty()) return r;
    r.partition = partition_for_group(group, int32_t(t->second.partitions.size()));
    std::lock_guard lk(mu);
    if (stopped) return r;
    auto it = hosted.find(r.partition);
    if (it != hosted.end()) r.shard = it->second;
    return r;
  }

  v1::CoordinatorHint hint(int32_t partition) {
    v1::CoordinatorHint h;
    h.set_coordinator_id(-1);
    if (partition < 0) return h;
    const auto l = pm.leader_of(kTopic, partition);
    if (l.id >= 0 && l.id != pm.self()) {
      h.set_coordinator_id(l.id);
      h.set_coordinator_address(l.address);
    }
    return h;
  }

  // Runs `op` on the group's shard and answers `done` with its response,
  // or with the routing error (NOT_COORDINATOR + hint,
  // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, INVALID_GROUP_ID).
  template <class Resp>
  void dispatch(const std::string& group, std::function<Resp(group_shard&, records&)> op,
                std::function<void(Resp)> done) {
    auto self = shared_from_this();
    auto fail = [self, done](int32_t partition, v1::ErrorCode code, const std::string& message) {
      // Off the caller's thread: done() must never run inside the call.
      asio::post(self->pm.rt().workers, [self, done, partition, code, message] {
        done(error_response<Resp>(code, message, self->hint(partition)));
      });
    };
    std::string why;
    if (v1::ErrorCode c = check_group_id(group, &why); c != v1::NONE) return fail(-1, c, why);
    route r = find(group);
    if (r.partition < 0) {
      return fail(-1, v1::COORDINATOR_NOT_AVAILABLE,
                  "__consumer_offsets does not exist yet (FindCoordinator creates it)");
    }
    const std::string where = "__consumer_offsets-" + std::to_string(r.partition);
    if (!r.shard) {
      bool stopping;
      {
        std::lock_guard lk(mu);
        stopping = stopped;
      }
      if (stopping) return fail(r.partition, v1::COORDINATOR_NOT_AVAILABLE, "broker is stopping");
      auto part = pm.get(kTopic, r.partition);
      if (part && part->is_leader()) {
        // Leader for less than a poll: the shard is about to be created.
        return fail(r.partition, v1::COORDINATOR_LOAD_IN_PROGRESS,
                    "the coordinator is loading " + where + "; retry");
      }
      const auto h = hint(r.partition);
      if (h.coordinator_id() < 0) {
        return fail(r.partition, v1::COORDINATOR_NOT_AVAILABLE,
                    "no leader of " + where + " is known (an election may be running)");
      }
      return fail(r.partition, v1::NOT_COORDINATOR,
                  "broker " + std::to_string(pm.self()) + " is not the coordinator of group '" +
                      group + "'; broker " + std::to_string(h.coordinator_id()) + " at " +
                      h.coordinator_address() + " is");
    }
    const int32_t partition = r.partition;
    r.shard->run(
        [op = std::move(op), done, self, partition](group_shard& s, records& out) {
          auto resp = std::make_shared<Resp>(op(s, out));
          completion c;
          c.reply = [resp, done] { done(std::move(*resp)); };
          c.fail = [self, done, partition](v1::ErrorCode code, const std::string& message) {
            done(error_response<Resp>(code, message, self->hint(partition)));
          };
          return c;
        },
        [self, done, partition](v1::ErrorCode code, const std::string& message) {
          done(error_response<Resp>(code, message, self->hint(partition)));
        });
  }

  // --- FindCoordinator ------------------------------------------------------
  Status create_topic() {
    std::lock_guard lk(create_mu);
    if (pm.topic(kTopic)) return Status();
    const auto& c = pm.config();
    // Capped by the brokers registered with the controller, not by this
    // broker's view of the live ones: that view can lag, and a topic created
    // with fewer replicas than the cluster has stays that narrow (one broker
    // lost could leave a partition without a majority). While a registered
    // broker is down the controller refuses (more replicas than live
    // brokers) and FindCoordinator answers COORDINATOR_NOT_AVAILABLE until
    // it is back, as Kafka does with offsets.topic.replication.factor.
    // The controller voters are brokers too: before every broker has
    // registered, count at least them.
    const std::string& voters = c.controller_voters;
    const int32_t voter_count =
        voters.empty() ? 1 : int32_t(std::count(voters.begin(), voters.end(), ',')) + 1;
    const int32_t registered = std::max<int32_t>(voter_count, int32_t(pm.view().image->brokers.size()));
    create_topic_request req;
    req.name = kTopic;
    req.internal = true;
    req.partitions = c.offsets_topic_partitions;
    req.replication_factor = std::min(c.offsets_topic_replication_factor, registered);
    // The topic holds the groups' whole state (there is no compaction yet):
    // never delete it by age or size; every append fsynced.
    req.configs = {{"flush.policy", "always"},
                   {"retention.ms", "-1"},
                   {"retention.bytes", "-1"},
                   {"max.message.bytes", std::to_string(size_t{8} << 20)}};
    Status st = pm.create_topic(req);
    if (st.code() == errc::topic_already_exists) return Status();
    if (st.ok()) {
      spdlog::info("created {} ({} partitions, replication factor {})", kTopic, req.partitions,
                   req.replication_factor);
    }
    return st;
  }

  v1::FindCoordinatorResponse find_coordinator(const std::string& group) {
    v1::FindCoordinatorResponse resp;
    resp.set_coordinator_id(-1);
    resp.set_partition(-1);
    std::string why;
    if (v1::ErrorCode c = check_group_id(group, &why); c != v1::NONE) {
      resp.set_error_code(c);
      resp.set_error_message(why);
      return resp;
    }
    if (!pm.topic(kTopic)) {
      if (Status st = create_topic(); !st.ok()) {
        resp.set_error_code(v1::COORDINATOR_NOT_AVAILABLE);
        resp.set_error_message("cannot create " + kTopic + ": " + st.message());
        return resp;
      }
    }
    auto t = pm.topic(kTopic);
    if (!t || t->partitions <= 0) {
      resp.set_error_code(v1::COORDINATOR_NOT_AVAILABLE);
      resp.set_error_message(kTopic + " is being created; retry");
      return resp;
    }
    const int32_t p = partition_for_group(group, t->partitions);
    resp.set_partition(p);
    const auto l = pm.leader_of(kTopic, p);
    if (l.id < 0 || l.address.empty()) {
      resp.set_error_code(v1::COORDINATOR_NOT_AVAILABLE);
      resp.set_error_message("no leader of " + kTopic + "-" + std::to_string(p) +
                             " is known (an election may be running); retry");
      return resp;
    }
    resp.set_coordinator_id(l.id);
    resp.set_coordinator_address(l.address);
    return resp;
  }

  // --- DescribeGroup's high watermarks (blocking: admin pool) --------------
  void fill_lag(v1::DescribeGroupResponse& resp) {
    std::vector<topic_partition> tps;
    for (const auto& o : resp.offsets()) tps.emplace_back(o.topic(), o.partition());
    auto ranges = hws.lookup(tps);
    for (auto& o : *resp.mutable_offsets()) {
      const log_range r = ranges[{o.topic(), o.partition()}];
      o.set_high_watermark(r.high_watermark);
      // Nothing committed: everything in the log is still to consume.
      const int64_t from = o.committed_offset() >= 0 ? o.committed_offset() : r.log_start;
      o.set_lag(r.high_watermark >= 0 && from >= 0 ? std::max<int64_t>(0, r.high_watermark - from)
                                                   : -1);
    }
  }

  // --- metrics (scrape thread; bounded waits) --------------------------------
  std::vector<group_sample> samples() {
    std::vector<std::shared_ptr<hosted_shard>> hs;
    {
      std::lock_guard lk(mu);
      for (const auto& [_, h] : hosted) hs.push_back(h);
    }
    std::vector<std::shared_ptr<std::promise<std::vector<group_stats>>>> waits;
    for (const auto& h : hs) {
      auto pr = std::make_shared<std::promise<std::vector<group_stats>>>();
      waits.push_back(pr);
      h->run(
          [pr](group_shard& s, records&) {
            pr->set_value(s.stats());
            return completion{[] {}, [](v1::ErrorCode, const std::string&) {}};
          },
          [pr](v1::ErrorCode, const std::string&) { pr->set_value({}); });
    }
    std::vector<group_stats> stats;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStatsWaitMs);
    for (auto& w : waits) {
      auto f = w->get_future();
      if (f.wait_until(deadline) != std::future_status::ready) continue;
      for (auto& g : f.get()) stats.push_back(std::move(g));
    }
    std::vector<topic_partition> tps;
    for (const auto& g : stats) {
      for (const auto& [tp, _] : g.committed) tps.push_back(tp);
    }
    auto ranges = hws.lookup(tps);
    std::vector<group_sample> out;
    for (const auto& g : stats) {
      group_sample s;
      s.group_id = g.group_id;
      s.state = g.state;
      s.members = g.members;
      s.rebalances = g.rebalances;
      for (const auto& [tp, committed] : g.committed) {
        const int64_t h = ranges[tp].high_watermark;
        s.offsets.push_back({tp.first, tp.second, committed,
                             h >= 0 && committed >= 0 ? std::max<int64_t>(0, h - committed) : -1});
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  void stop() {
    std::map<int32_t, std::shared_ptr<hosted_shard>> hs;
    {
      std::lock_guard lk(mu);
      if (stopped) return;
      stopped = true;
      timer.cancel();
      hs.swap(hosted);
    }
    pm.stats().set_group_source(nullptr);
    for (const auto& [_, h] : hs) h->stop();
  }
};

coordinator::coordinator(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

coordinator::~coordinator() { stop(); }

std::unique_ptr<coordinator> coordinator::start(partition_manager& pm) {
  auto i = std::make_shared<impl>(pm);
  std::weak_ptr<impl> weak = i;
  pm.stats().set_group_source([weak] {
    auto self = weak.lock();
    return self ? self->samples() : std::vector<group_sample>{};
  });
  i->arm();
  return std::unique_ptr<coordinator>(new coordinator(std::move(i)));
}

void coordinator::stop() { impl_->stop(); }

v1::FindCoordinatorResponse coordinator::find_coordinator(const std::string& group_id) {
  return impl_->find_coordinator(group_id);
}

void coordinator::heartbeat(const v1::GroupHeartbeatRequest& req, std::string host,
                            std::function<void(v1::GroupHeartbeatResponse)> done) {
  impl_->dispatch<v1::GroupHeartbeatResponse>(
      req.group_id(),
      [req, host = std::move(host), topics = impl_->topics_snapshot()](group_shard& s,
                                                                        records& out) {
        return s.heartbeat(req, host, *topics, steady_ms(), out);
      },
      std::move(done));
}

void coordinator::commit_offsets(const v1::CommitOffsetsRequest& req,
                                 std::function<void(v1::CommitOffsetsResponse)> done) {
  const auto t0 = std::chrono::steady_clock::now();
  metrics& m = impl_->pm.stats();
  impl_->dispatch<v1::CommitOffsetsResponse>(
      req.group_id(),
      [req, topics = impl_->topics_snapshot()](group_shard& s, records& out) {
        return s.commit(req, *topics, steady_ms(), wall_ms(), out);
      },
      [done = std::move(done), t0, &m](v1::CommitOffsetsResponse r) {
        if (r.error_code() == v1::NONE) {
          m.group_commit(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        done(std::move(r));
      });
}

void coordinator::fetch_offsets(const v1::FetchOffsetsRequest& req,
                                std::function<void(v1::FetchOffsetsResponse)> done) {
  impl_->dispatch<v1::FetchOffsetsResponse>(
      req.group_id(), [req](group_shard& s, records&) { return s.fetch_offsets(req); },
      std::move(done));
}

void coordinator::describe_group(const v1::DescribeGroupRequest& req,
                                 std::function<void(v1::DescribeGroupResponse)> done) {
  std::weak_ptr<impl> weak = impl_;
  const int32_t self = impl_->pm.self();
  partition_manager& pm = impl_->pm;
  impl_->dispatch<v1::DescribeGroupResponse>(
      req.group_id(), [req](group_shard& s, records&) { return s.describe(req); },
      [done = std::move(done), weak, self, &pm](v1::DescribeGroupResponse r) mutable {
        if (r.error_code() != v1::NONE) return done(std::move(r));
        r.set_coordinator_id(self);
        // Asking other leaders blocks: off the worker threads.
        asio::post(pm.rt().admin, [done = std::move(done), weak, r = std::move(r)]() mutable {
          if (auto i = weak.lock()) i->fill_lag(r);
          done(std::move(r));
        });
      });
}

void coordinator::delete_group(const v1::DeleteGroupRequest& req,
                               std::function<void(v1::DeleteGroupResponse)> done) {
  impl_->dispatch<v1::DeleteGroupResponse>(
      req.group_id(), [req](group_shard& s, records& out) { return s.delete_group(req, out); },
      std::move(done));
}

void coordinator::delete_offsets(const v1::DeleteOffsetsRequest& req,
                                 std::function<void(v1::DeleteOffsetsResponse)> done) {
  impl_->dispatch<v1::DeleteOffsetsResponse>(
      req.group_id(), [req](group_shard& s, records& out) { return s.delete_offsets(req, out); },
      std::move(done));
}

void coordinator::list_groups(const v1::ListGroupsRequest& req,
                              std::function<void(v1::ListGroupsResponse)> done) {
  std::vector<std::shared_ptr<hosted_shard>> hs;
  {
    std::lock_guard lk(impl_->mu);
    for (const auto& [_, h] : impl_->hosted) hs.push_back(h);
  }
  // One answer gathered from every shard (each on its strand); the last
  // shard to answer sends it.
  struct gather {
    std::mutex mu;
    v1::ListGroupsResponse resp;
    size_t remaining = 0;
    std::function<void(v1::ListGroupsResponse)> done;
  };
  auto g = std::make_shared<gather>();
  g->remaining = hs.size() + 1;
  g->done = std::move(done);
  auto release = [g] {
    std::unique_lock lk(g->mu);
    if (--g->remaining > 0) return;
    lk.unlock();
    g->done(std::move(g->resp));
  };
  const int32_t self = impl_->pm.self();
  for (const auto& h : hs) {
    h->run(
        [req, g, release, self](group_shard& s, records&) {
          {
            std::lock_guard lk(g->mu);
            const int before = g->resp.groups_size();
            s.list(req, g->resp);
            for (int k = before; k < g->resp.groups_size(); ++k) {
              g->resp.mutable_groups(k)->set_coordinator_id(self);
            }
          }
          return completion{release, [release](v1::ErrorCode, const std::string&) { release(); }};
        },
        // A shard still loading lists nothing (its groups show once loaded).
        [release](v1::ErrorCode, const std::string&) { release(); });
  }
  asio::post(impl_->pm.rt().workers, release);
}

}  // namespace kappa::broker::group
