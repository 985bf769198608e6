#include "client/src/consumer_group.h"

#include <algorithm>
#include <chrono>

#include "client/src/backoff.h"

namespace kappa::client {

namespace {

std::set<topic_partition> to_set(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& list) {
  std::set<topic_partition> out;
  for (const auto& t : list) {
    for (int32_t p : t.partitions()) out.insert({t.topic(), p});
  }
  return out;
}

void add_partitions(const std::set<topic_partition>& tps,
                    google::protobuf::RepeatedPtrField<v1::TopicPartitions>* out) {
  v1::TopicPartitions* current = nullptr;
  for (const auto& tp : tps) {  // sorted: one entry per topic
    if (current == nullptr || current->topic() != tp.topic) {
      current = out->Add();
      current->set_topic(tp.topic);
    }
    current->add_partitions(tp.partition);
  }
}

bool fenced(const Status& st) {
  return st.code() == make_error_code(client_errc::fenced_member_epoch) ||
         st.code() == make_error_code(client_errc::unknown_member_id);
}

}  // namespace

group_member::group_member(connection_pool& pool, metadata_cache& metadata,
                           const consumer_config& config, std::string group_id,
                           group_subscription subscription, std::function<void()> on_change)
    : config_(config),
      route_(pool, metadata, std::move(group_id)),
      on_change_(std::move(on_change)),
      subscription_(std::move(subscription)) {
  heartbeat_thread_ = std::thread([this] { run_heartbeats(); });
  commit_thread_ = std::thread([this] { run_commits(); });
}

group_member::~group_member() {
  stop_heartbeats();
  std::deque<queued_commit> dropped;
  {
    std::lock_guard lock(commit_mu_);
    stop_commits_ = true;
  }
  commit_cv_.notify_all();
  if (commit_thread_.joinable()) commit_thread_.join();
  dropped.swap(commits_);
  for (auto& c : dropped) {
    if (c.done)
      c.done(client_error(client_errc::closed, "commit: the consumer closed before it was sent"));
  }
}

void group_member::set_subscription(group_subscription subscription) {
  {
    std::lock_guard lock(mu_);
    subscription_ = std::move(subscription);
    heartbeat_now_ = true;
  }
  heartbeat_cv_.notify_all();
}

group_member::view group_member::current() const {
  std::lock_guard lock(mu_);
  return view{fence_generation_, has_assignment_, target_};
}

void group_member::set_owned(std::set<topic_partition> owned, uint64_t fence_generation) {
  {
    std::lock_guard lock(mu_);
    if (fence_generation != fence_generation_ || owned == owned_) return;
    owned_ = std::move(owned);
    heartbeat_now_ = true;
  }
  heartbeat_cv_.notify_all();
}

std::optional<Status> group_member::take_error() {
  std::lock_guard lock(mu_);
  std::optional<Status> out;
  out.swap(error_);
  return out;
}

std::string group_member::member_id() const {
  std::lock_guard lock(mu_);
  return member_id_;
}

int32_t group_member::member_epoch() const {
  std::lock_guard lock(mu_);
  return member_id_.empty() ? -1 : member_epoch_;
}

void group_member::run_heartbeats() {
  int attempts = 0;
  int64_t next_ms = 0;
  std::unique_lock lock(mu_);
  while (!stop_heartbeats_) {
    if (!heartbeat_now_ && now_ms() < next_ms) {
      heartbeat_cv_.wait_for(lock, std::chrono::milliseconds(next_ms - now_ms()));
      continue;
    }
    heartbeat_now_ = false;
    v1::GroupHeartbeatRequest request;
    request.set_group_id(route_.group_id());
    // A fenced member rejoins (epoch 0) under its old id: the coordinator
    // then drops the old membership at once instead of at its session
    // timeout, and gives a new id.
    request.set_member_id(member_id_);
    request.set_member_epoch(member_epoch_);
    request.set_instance_id(config_.group_instance_id);
    request.set_client_id(config_.client_id);
    for (const auto& t : subscription_.topics) request.add_subscribed_topics(t);
    request.set_subscribed_pattern(subscription_.pattern);
    request.set_assignor(config_.group_assignor);
    request.set_session_timeout_ms(config_.session_timeout_ms);
    request.set_rebalance_timeout_ms(config_.rebalance_timeout_ms);
    add_partitions(owned_, request.mutable_owned());
    const uint64_t generation = fence_generation_;
    lock.unlock();

    // Bounded well inside the session so a slow coordinator costs retries,
    // not the membership; the route retries coordinator moves meanwhile.
    const int64_t budget =
        std::clamp<int64_t>(config_.session_timeout_ms / 2, 1, config_.client.request_timeout_ms);
    v1::GroupHeartbeatResponse response;
    Status st = route_.call(
        "heartbeat of group '" + route_.group_id() + "'", response, now_ms() + budget,
        [&](v1::Group::Stub* stub, grpc::ClientContext* context, v1::GroupHeartbeatResponse* r) {
          return stub->Heartbeat(context, request, r);
        });
    bool notify = false;
    lock.lock();
    if (generation != fence_generation_) continue;  // cannot happen: only this thread fences
    if (st.ok()) {
      attempts = 0;
      if (!response.member_id().empty()) member_id_ = response.member_id();
      member_epoch_ = response.member_epoch();
      epoch_cv_.notify_all();
      if (response.heartbeat_interval_ms() > 0)
        heartbeat_interval_ms_ = response.heartbeat_interval_ms();
      std::set<topic_partition> target = to_set(response.assignment());
      if (!has_assignment_ || target != target_) notify = true;
      has_assignment_ = true;
      target_ = std::move(target);
      next_ms = now_ms() + heartbeat_interval_ms_;
    } else if (fenced(st)) {
      // Whatever it owned may belong to another member already: lost, not
      // revoked. poll() runs on_lost; the member rejoins right away.
      ++fence_generation_;
      member_epoch_ = 0;
      epoch_cv_.notify_all();
      has_assignment_ = false;
      target_.clear();
      owned_.clear();
      heartbeat_now_ = true;
      attempts = 0;
      notify = true;
    } else {
      if (!is_retriable(st.code())) {
        error_ = st;
        notify = true;
      }
      next_ms = now_ms() + backoff_ms(config_.client, ++attempts);
    }
    if (notify && on_change_) {
      lock.unlock();
      on_change_();
      lock.lock();
    }
  }
}

void group_member::stop_heartbeats() {
  {
    std::lock_guard lock(mu_);
    stop_heartbeats_ = true;
  }
  heartbeat_cv_.notify_all();
  epoch_cv_.notify_all();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

Status group_member::leave(int64_t deadline_ms) {
  stop_heartbeats();
  v1::GroupHeartbeatRequest request;
  {
    std::lock_guard lock(mu_);
    if (left_) return Status();
    left_ = true;
    if (member_id_.empty()) return Status();  // never joined: nothing to leave
    request.set_group_id(route_.group_id());
    request.set_member_id(member_id_);
    request.set_instance_id(config_.group_instance_id);
    request.set_member_epoch(config_.group_instance_id.empty() ? -1 : -2);
    member_id_.clear();
    member_epoch_ = 0;
    has_assignment_ = false;
    target_.clear();
    owned_.clear();
  }
  v1::GroupHeartbeatResponse response;
  return route_.call(
      "leave group '" + route_.group_id() + "'", response, deadline_ms,
      [&](v1::Group::Stub* stub, grpc::ClientContext* context, v1::GroupHeartbeatResponse* r) {
        return stub->Heartbeat(context, request, r);
      });
}

// ---- commits ----

Status group_member::send_commit(const std::map<topic_partition, int64_t>& offsets,
                                 int64_t deadline_ms) {
  if (offsets.empty()) return Status();
  v1::CommitOffsetsRequest request;
  request.set_group_id(route_.group_id());
  {
    std::lock_guard lock(mu_);
    if (member_id_.empty() || member_epoch_ <= 0) {
      return client_error(
          client_errc::unknown_member_id,
          "commit to group '" + route_.group_id() + "': not a member (joining or fenced)");
    }
    request.set_member_id(member_id_);
    request.set_member_epoch(member_epoch_);
  }
  v1::OffsetCommitTopic* topic = nullptr;
  for (const auto& [tp, offset] : offsets) {
    if (topic == nullptr || topic->topic() != tp.topic) {
      topic = request.add_topics();
      topic->set_topic(tp.topic);
    }
    auto* p = topic->add_partitions();
    p->set_partition(tp.partition);
    p->set_offset(offset);
    p->set_leader_epoch(-1);
  }
  v1::CommitOffsetsResponse response;
  // A heartbeat answer may move the epoch on (new partitions) while the
  // commit travels: STALE_MEMBER_EPOCH then only means "resend with the
  // new one", as long as it is the same member. Bounded.
  for (int attempt = 0;; ++attempt) {
    Status st = route_.call(
        "commit offsets of group '" + route_.group_id() + "'", response, deadline_ms,
        [&](v1::Group::Stub* stub, grpc::ClientContext* context, v1::CommitOffsetsResponse* r) {
          return stub->CommitOffsets(context, request, r);
        });
    if (st.ok()) break;
    if (st.code() != make_error_code(client_errc::stale_member_epoch) || attempt >= 3) return st;
    std::unique_lock lock(mu_);
    // The answer that moved the epoch may still be on its way: heartbeat
    // now and wait for it (bounded by the commit's deadline).
    heartbeat_now_ = true;
    heartbeat_cv_.notify_all();
    epoch_cv_.wait_for(
        lock, std::chrono::milliseconds(std::max<int64_t>(0, deadline_ms - now_ms())), [&] {
          return stop_heartbeats_ || member_id_ != request.member_id() ||
                 member_epoch_ != request.member_epoch();
        });
    if (member_id_ != request.member_id() || member_epoch_ <= 0 ||
        member_epoch_ == request.member_epoch()) {
      return st;
    }
    request.set_member_epoch(member_epoch_);
  }
  for (const auto& t : response.topics()) {
    for (const auto& p : t.partitions()) {
      if (p.error_code() != v1::NONE) {
        return from_code(p.error_code(), p.error_message(),
                         "commit offset of " + t.topic() + "-" + std::to_string(p.partition()));
      }
    }
  }
  return Status();
}

void group_member::run_commits() {
  std::unique_lock lock(commit_mu_);
  while (true) {
    commit_cv_.wait(lock, [&] { return stop_commits_ || !commits_.empty(); });
    if (stop_commits_) return;
    queued_commit c = std::move(commits_.front());
    commits_.pop_front();
    committing_ = true;
    lock.unlock();
    const int64_t deadline =
        c.deadline_ms > 0 ? c.deadline_ms : now_ms() + config_.client.request_timeout_ms;
    Status st = send_commit(c.offsets, deadline);
    if (c.done) c.done(st);
    lock.lock();
    committing_ = false;
    commit_cv_.notify_all();
  }
}

Status group_member::commit(std::map<topic_partition, int64_t> offsets, int64_t deadline_ms) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> result = promise->get_future();
  {
    std::lock_guard lock(commit_mu_);
    if (stop_commits_) return client_error(client_errc::closed, "commit: the consumer is closed");
    commits_.push_back({std::move(offsets),
                        [promise](Status st) { promise->set_value(std::move(st)); }, deadline_ms});
  }
  commit_cv_.notify_all();
  // The committer answers every queued commit by its deadline (or at
  // destruction, with `closed`), so this wait is bounded.
  return result.get();
}

void group_member::commit_async(std::map<topic_partition, int64_t> offsets,
                                std::function<void(Status)> done) {
  {
    std::lock_guard lock(commit_mu_);
    if (!stop_commits_) {
      commits_.push_back({std::move(offsets), std::move(done), 0});
      commit_cv_.notify_all();
      return;
    }
  }
  if (done) done(client_error(client_errc::closed, "commit: the consumer is closed"));
}

void group_member::flush_commits(int64_t deadline_ms) {
  std::unique_lock lock(commit_mu_);
  commit_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, deadline_ms - now_ms())),
                      [&] { return stop_commits_ || (commits_.empty() && !committing_); });
}

Result<std::map<topic_partition, committed_offset>> group_member::fetch_offsets(
    const std::vector<topic_partition>& partitions, int64_t deadline_ms) {
  std::map<topic_partition, committed_offset> out;
  if (partitions.empty()) return out;
  v1::FetchOffsetsRequest request;
  request.set_group_id(route_.group_id());
  add_partitions(std::set<topic_partition>(partitions.begin(), partitions.end()),
                 request.mutable_partitions());
  v1::FetchOffsetsResponse response;
  KAPPA_RETURN_IF_ERROR(route_.call(
      "fetch offsets of group '" + route_.group_id() + "'", response, deadline_ms,
      [&](v1::Group::Stub* stub, grpc::ClientContext* context, v1::FetchOffsetsResponse* r) {
        return stub->FetchOffsets(context, request, r);
      }));
  for (const auto& t : response.topics()) {
    for (const auto& p : t.partitions()) {
      if (p.error_code() != v1::NONE) {
        return from_code(p.error_code(), "",
                         "fetch offset of " + t.topic() + "-" + std::to_string(p.partition()));
      }
      committed_offset c;
      c.offset = p.offset();
      c.leader_epoch = p.leader_epoch();
      c.metadata = p.metadata();
      c.commit_timestamp_ms = p.offset() >= 0 ? p.commit_timestamp_ms() : -1;
      out[{t.topic(), p.partition()}] = std::move(c);
    }
  }
  for (const auto& tp : partitions) out.try_emplace(tp);  // not in the answer: nothing committed
  return out;
}

}  // namespace kappa::client
