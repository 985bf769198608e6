// An in-process fake of kappa.v1.Group for libkappa's group tests: one
// server on 127.0.0.1 that is both the fake broker of tests/client/
// fake_broker.h (Metadata, Fetch, ListOffsets over a shared
// fake_broker_state) and the coordinator of every group.
//
// Assignment is scripted, not computed: the test sets each member's target
// (set_target; a joining member gets `join_target`). As kappad's
// coordinator does, a member is given its target minus the partitions
// another member still reports owning, and its epoch goes up whenever what
// it is given changes. Every heartbeat, commit and leave is appended to an
// event log shared with the test (which adds its callbacks' events), so
// tests check orderings across client and server. fence() makes a member's
// next heartbeat answer FENCED_MEMBER_EPOCH (and removes it).
//
// Thread-safe; the test thread and gRPC's threads use it concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kappa/v1/group.grpc.pb.h"
#include "tests/client/fake_broker.h"

namespace kappa::test {

using tp_set = std::set<topic_partition>;

// One line of the shared event log.
struct group_event {
  enum class kind { heartbeat, commit, leave, fenced, callback };
  kind what = kind::heartbeat;
  std::string member_id;
  int32_t member_epoch = 0;  // as sent
  tp_set partitions;         // owned (heartbeat), committed (commit), the callback's
  std::map<topic_partition, int64_t> offsets;  // commit
  // callback: "assigned", "revoked", "lost"; heartbeat: the subscription
  // ("topics:a,b" or "pattern:REGEX")
  std::string label;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
};

class fake_group_state {
 public:
  int32_t heartbeat_interval_ms = 100;
  tp_set join_target;  // what a joining member is meant to get

  void set_target(const std::string& member_id, tp_set target) {
    std::lock_guard lock(mu_);
    members_[member_id].target = std::move(target);
  }
  void fence(const std::string& member_id) {
    std::lock_guard lock(mu_);
    fenced_.insert(member_id);
  }
  void set_committed(const std::string& group, const topic_partition& tp, int64_t offset) {
    std::lock_guard lock(mu_);
    committed_[{group, tp}] = offset;
  }
  std::optional<int64_t> committed(const std::string& group, const topic_partition& tp) const {
    std::lock_guard lock(mu_);
    auto it = committed_.find({group, tp});
    if (it == committed_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> member_ids() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, m] : members_) {
      if (m.epoch > 0) out.push_back(id);
    }
    return out;
  }
  int32_t epoch_of(const std::string& member_id) const {
    std::lock_guard lock(mu_);
    auto it = members_.find(member_id);
    return it == members_.end() ? -1 : it->second.epoch;
  }
  // The next commit finds the member's epoch moved on (as by a heartbeat
  // answer still travelling): STALE_MEMBER_EPOCH.
  void stale_next_commit() {
    std::lock_guard lock(mu_);
    stale_next_commit_ = true;
  }
  // The next n heartbeats and commits answer `code` (e.g. a coordinator
  // still loading its partition), changing nothing.
  void fail_next(int n, v1::ErrorCode code) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
    fail_code_ = code;
  }
  // Each commit answered after this long (to make commits overlap).
  void set_commit_delay_ms(int ms) { commit_delay_ms_.store(ms); }

  void record(group_event e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<group_event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

  v1::GroupHeartbeatResponse heartbeat(const v1::GroupHeartbeatRequest& q) {
    std::lock_guard lock(mu_);
    v1::GroupHeartbeatResponse r;
    group_event e;
    e.member_id = q.member_id();
    e.member_epoch = q.member_epoch();
    for (const auto& t : q.owned()) {
      for (int32_t p : t.partitions()) e.partitions.insert({t.topic(), p});
    }
    if (!q.subscribed_pattern().empty()) {
      e.label = "pattern:" + q.subscribed_pattern();
    } else {
      e.label = "topics:";
      for (int i = 0; i < q.subscribed_topics_size(); ++i)
        e.label += (i ? "," : "") + q.subscribed_topics(i);
    }
    if (q.member_epoch() < 0) {
      e.what = group_event::kind::leave;
      events_.push_back(e);
      members_.erase(q.member_id());
      r.set_member_id(q.member_id());
      r.set_member_epoch(q.member_epoch());
      return r;
    }
    if (fail_next_ > 0) {
      --fail_next_;
      events_.push_back(e);
      r.set_error_code(fail_code_);
      return r;
    }
    std::string id = q.member_id();
    if (q.assignor() != "uniform" && q.assignor() != "range") {
      events_.push_back(e);
      r.set_error_code(v1::UNSUPPORTED_ASSIGNOR);
      r.set_error_message("assignor " + q.assignor());
      return r;
    }
    if (q.member_epoch() == 0) {
      id = "m" + std::to_string(++next_member_);
      member& m = members_[id];
      m.target = join_target;
      m.epoch = 1;
      e.member_id = id;
    }
    events_.push_back(e);
    auto it = members_.find(id);
    if (it == members_.end() || it->second.epoch <= 0) {
      r.set_error_code(v1::UNKNOWN_MEMBER_ID);
      return r;
    }
    member& m = it->second;
    // As kappad's coordinator, the epoch before is forgiven (its answer may
    // have been lost).
    if (fenced_.erase(id) > 0 || (q.member_epoch() != 0 && q.member_epoch() != m.epoch &&
                                  q.member_epoch() != m.previous_epoch)) {
      events_.push_back(
          group_event{group_event::kind::fenced, id, q.member_epoch(), {}, {}, "", {}});
      members_.erase(it);
      r.set_error_code(v1::FENCED_MEMBER_EPOCH);
      return r;
    }
    m.owned = e.partitions;
    // Its target minus what others still own: no partition has two owners.
    tp_set given;
    for (const auto& tp : m.target) {
      bool taken = false;
      for (const auto& [other_id, other] : members_) {
        taken |= other_id != id && other.owned.count(tp) > 0;
      }
      if (!taken) given.insert(tp);
    }
    if (given != m.given) {
      m.given = given;
      m.previous_epoch = m.epoch++;
    }
    r.set_member_id(id);
    r.set_member_epoch(m.epoch);
    r.set_heartbeat_interval_ms(heartbeat_interval_ms);
    v1::TopicPartitions* t = nullptr;
    for (const auto& tp : given) {
      if (t == nullptr || t->topic() != tp.topic) {
        t = r.add_assignment();
        t->set_topic(tp.topic);
      }
      t->add_partitions(tp.partition);
    }
    return r;
  }

  v1::CommitOffsetsResponse commit(const v1::CommitOffsetsRequest& q) {
    const int delay = commit_delay_ms_.load();
    if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    std::lock_guard lock(mu_);
    v1::CommitOffsetsResponse r;
    group_event e;
    e.what = group_event::kind::commit;
    e.member_id = q.member_id();
    e.member_epoch = q.member_epoch();
    for (const auto& t : q.topics()) {
      for (const auto& p : t.partitions()) {
        e.partitions.insert({t.topic(), p.partition()});
        e.offsets[{t.topic(), p.partition()}] = p.offset();
      }
    }
    events_.push_back(e);
    if (fail_next_ > 0) {
      --fail_next_;
      r.set_error_code(fail_code_);
      return r;
    }
    auto it = members_.find(q.member_id());
    if (it == members_.end() || it->second.epoch <= 0) {
      r.set_error_code(v1::UNKNOWN_MEMBER_ID);
      return r;
    }
    if (stale_next_commit_) {
      stale_next_commit_ = false;
      it->second.previous_epoch = it->second.epoch++;
    }
    if (q.member_epoch() != it->second.epoch) {
      r.set_error_code(v1::STALE_MEMBER_EPOCH);
      return r;
    }
    for (const auto& t : q.topics()) {
      auto* rt = r.add_topics();
      rt->set_topic(t.topic());
      for (const auto& p : t.partitions()) {
        committed_[{q.group_id(), {t.topic(), p.partition()}}] = p.offset();
        rt->add_partitions()->set_partition(p.partition());
      }
    }
    return r;
  }

  v1::FetchOffsetsResponse fetch_offsets(const v1::FetchOffsetsRequest& q) {
    std::lock_guard lock(mu_);
    v1::FetchOffsetsResponse r;
    for (const auto& t : q.partitions()) {
      auto* rt = r.add_topics();
      rt->set_topic(t.topic());
      for (int32_t p : t.partitions()) {
        auto* rp = rt->add_partitions();
        rp->set_partition(p);
        auto it = committed_.find({q.group_id(), {t.topic(), p}});
        rp->set_offset(it == committed_.end() ? -1 : it->second);
        rp->set_leader_epoch(-1);
      }
    }
    return r;
  }

 private:
  struct member {
    int32_t epoch = 0;
    int32_t previous_epoch = -1;
    tp_set target, given, owned;
  };
  mutable std::mutex mu_;
  std::map<std::string, member> members_;
  std::set<std::string> fenced_;
  bool stale_next_commit_ = false;
  int fail_next_ = 0;
  v1::ErrorCode fail_code_ = v1::NONE;
  int next_member_ = 0;
  std::map<std::pair<std::string, topic_partition>, int64_t> committed_;
  std::vector<group_event> events_;
  std::atomic<int> commit_delay_ms_{0};
};

class fake_group_service : public v1::Group::CallbackService {
 public:
  fake_group_service(fake_group_state* state, std::string* address)
      : state_(state), address_(address) {}

  grpc::ServerUnaryReactor* FindCoordinator(grpc::CallbackServerContext* c,
                                            const v1::FindCoordinatorRequest*,
                                            v1::FindCoordinatorResponse* r) override {
    r->set_coordinator_id(1);
    r->set_coordinator_address(*address_);
    return done(c);
  }
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* c,
                                      const v1::GroupHeartbeatRequest* q,
                                      v1::GroupHeartbeatResponse* r) override {
    *r = state_->heartbeat(*q);
    return done(c);
  }
  grpc::ServerUnaryReactor* CommitOffsets(grpc::CallbackServerContext* c,
                                          const v1::CommitOffsetsRequest* q,
                                          v1::CommitOffsetsResponse* r) override {
    *r = state_->commit(*q);
    return done(c);
  }
  grpc::ServerUnaryReactor* FetchOffsets(grpc::CallbackServerContext* c,
                                         const v1::FetchOffsetsRequest* q,
                                         v1::FetchOffsetsResponse* r) override {
    *r = state_->fetch_offsets(*q);
    return done(c);
  }

 private:
  static grpc::ServerUnaryReactor* done(grpc::CallbackServerContext* c) {
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  fake_group_state* state_;
  std::string* address_;
};

// A fake broker (id 1) that also coordinates every group.
class fake_group_coordinator {
 public:
  explicit fake_group_coordinator(std::shared_ptr<fake_broker_state> brokers)
      : brokers_(std::move(brokers)),
        broker_service_(brokers_.get(), 1),
        group_service_(&groups, &address_) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&broker_service_);
    builder.RegisterService(&group_service_);
    server_ = builder.BuildAndStart();
    KAPPA_ASSERT(server_ != nullptr && port_ > 0);
    address_ = "127.0.0.1:" + std::to_string(port_);
    brokers_->address = address_;
    brokers_->register_broker(1, address_);
  }
  ~fake_group_coordinator() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  }

  const std::string& address() const { return address_; }

  fake_group_state groups;

 private:
  std::shared_ptr<fake_broker_state> brokers_;
  std::string address_;
  fake_broker_service broker_service_;
  fake_group_service group_service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace kappa::test
