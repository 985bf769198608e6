// The consumer's public group calls: subscribe, unsubscribe, commits.
#include <chrono>
#include <regex>

#include "client/src/backoff.h"
#include "client/src/consumer_group.h"
#include "client/src/consumer_impl.h"

namespace kappa {

using client::now_ms;

namespace {

Status subscribe_impl(consumer::impl& im, client::group_subscription subscription,
                      const std::string& group_id, rebalance_listener listener) {
  if (group_id.empty())
    return client_error(client_errc::invalid_argument, "subscribe: empty group id");
  std::shared_ptr<client::group_member> existing;
  {
    std::lock_guard lock(im.mu_);
    if (im.closed_) return client_error(client_errc::closed, "subscribe: the consumer is closed");
    if (im.manual_) {
      return client_error(client_errc::invalid_argument,
                          "subscribe: partitions were assigned manually (assign({}) first)");
    }
    if (im.group_ && im.group_->group_id() != group_id) {
      return client_error(
          client_errc::invalid_argument,
          "subscribe: already in group '" + im.group_->group_id() + "' (unsubscribe first)");
    }
    im.listener_ = std::move(listener);
    existing = im.group_;
    if (!existing) {
      im.group_ = std::make_shared<client::group_member>(im.pool_, im.metadata_, im.config_,
                                                         group_id, std::move(subscription),
                                                         [&im] { im.on_group_change(); });
      im.group_dirty_ = true;
      im.next_auto_commit_ms_ = now_ms() + im.config_.auto_commit_interval_ms;
      return Status();
    }
  }
  existing->set_subscription(std::move(subscription));
  return Status();
}

// close() and unsubscribe() apply callbacks like poll() does: a poll on
// another thread must not be reconciling meanwhile. From inside a callback
// (the polling thread holds poll_mu_ already) it goes ahead.
void leave_as_poller(consumer& self, consumer::impl& im) {
  std::unique_lock poll_lock(im.poll_mu_, std::defer_lock);
  if (im.poll_thread_.load() != std::this_thread::get_id()) {
    (void)poll_lock.try_lock_for(std::chrono::milliseconds(im.config_.client.request_timeout_ms));
  }
  im.leave_group(self);
}

}  // namespace

Status consumer::subscribe(const std::vector<std::string>& topics, const std::string& group_id,
                           rebalance_listener listener) {
  if (topics.empty())
    return client_error(client_errc::invalid_argument,
                        "subscribe: no topics (unsubscribe() leaves)");
  for (const auto& t : topics) {
    if (t.empty())
      return client_error(client_errc::invalid_argument, "subscribe: empty topic name");
  }
  client::group_subscription subscription;
  subscription.topics = topics;
  return subscribe_impl(*impl_, std::move(subscription), group_id, std::move(listener));
}

Status consumer::subscribe_pattern(const std::string& pattern, const std::string& group_id,
                                   rebalance_listener listener) {
  if (pattern.empty())
    return client_error(client_errc::invalid_argument, "subscribe_pattern: empty pattern");
  try {
    std::regex check(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return client_error(client_errc::invalid_argument,
                        "subscribe_pattern: bad regular expression '" + pattern + "': " + e.what());
  }
  client::group_subscription subscription;
  subscription.pattern = pattern;
  return subscribe_impl(*impl_, std::move(subscription), group_id, std::move(listener));
}

Status consumer::unsubscribe() {
  if (!impl_->group()) return Status();
  leave_as_poller(*this, *impl_);
  return Status();
}

std::string consumer::member_id() const {
  auto g = impl_->group();
  return g ? g->member_id() : std::string();
}

int32_t consumer::member_epoch() const {
  auto g = impl_->group();
  return g ? g->member_epoch() : -1;
}

Status consumer::commit_sync() {
  auto g = impl_->group();
  if (!g)
    return client_error(client_errc::invalid_argument, "commit_sync: not subscribed to a group");
  std::map<topic_partition, int64_t> positions;
  {
    std::lock_guard lock(impl_->mu_);
    positions = impl_->positions_locked(nullptr);
  }
  return g->commit(std::move(positions), now_ms() + impl_->config_.client.request_timeout_ms);
}

Status consumer::commit_sync(const std::map<topic_partition, int64_t>& offsets) {
  auto g = impl_->group();
  if (!g)
    return client_error(client_errc::invalid_argument, "commit_sync: not subscribed to a group");
  for (const auto& [tp, offset] : offsets) {
    if (tp.topic.empty() || tp.partition < 0 || offset < 0) {
      return client_error(client_errc::invalid_argument,
                          "commit_sync: bad topic-partition or negative offset");
    }
  }
  return g->commit(offsets, now_ms() + impl_->config_.client.request_timeout_ms);
}

void consumer::commit_async(std::function<void(Status)> done) {
  auto g = impl_->group();
  if (!g) {
    if (done)
      done(client_error(client_errc::invalid_argument, "commit_async: not subscribed to a group"));
    return;
  }
  std::map<topic_partition, int64_t> positions;
  {
    std::lock_guard lock(impl_->mu_);
    positions = impl_->positions_locked(nullptr);
  }
  g->commit_async(std::move(positions), std::move(done));
}

Result<std::map<topic_partition, committed_offset>> consumer::committed(
    const std::vector<topic_partition>& partitions) {
  auto g = impl_->group();
  if (!g)
    return client_error(client_errc::invalid_argument, "committed: not subscribed to a group");
  return g->fetch_offsets(partitions, now_ms() + impl_->config_.client.request_timeout_ms);
}

void consumer::close() {
  if (impl_->group()) {
    wakeup();  // a poll waiting on another thread returns, so its lock is free
    leave_as_poller(*this, *impl_);
  }
  impl_->shutdown();
}

}  // namespace kappa
