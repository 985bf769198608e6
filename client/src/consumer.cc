#include <algorithm>
#include <chrono>

#include "client/src/backoff.h"
#include "client/src/consumer_impl.h"
#include "client/src/fetch_decode.h"
#include "client/src/list_offsets.h"

namespace kappa {

using client::now_ms;

consumer::impl::impl(const consumer_config& config) : config_(config), pool_(config.client), metadata_(pool_) {
  fetcher_ = std::thread([this] { run_fetcher(); });
}

consumer::impl::~impl() { shutdown(); }

void consumer::impl::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    wake_fetcher();
  }
  data_cv_.notify_all();
  // The fetcher cancels its calls and drains its completion queue on exit.
  if (fetcher_.joinable()) fetcher_.join();
}

Status consumer::impl::seek_with_spec(const std::vector<topic_partition>& tps, int64_t spec) {
  std::vector<std::pair<topic_partition, int64_t>> specs;
  {
    std::lock_guard lock(mu_);
    for (const auto& tp : tps) {
      if (!parts_.count(tp)) {
        return client_error(client_errc::invalid_argument, "seek: " + tp.topic + "-" + std::to_string(tp.partition) + " is not assigned");
      }
      specs.emplace_back(tp, spec);
    }
  }
  KAPPA_ASSIGN_OR_RETURN(auto listed, client::list_offsets(pool_, metadata_, specs));
  std::lock_guard lock(mu_);
  for (const auto& l : listed) {
    if (!l.status.ok()) return l.status;
  }
  for (const auto& l : listed) {
    auto it = parts_.find(l.tp);
    if (it == parts_.end()) continue;
    partition_state& s = it->second;
    drop_buffered(s);
    detach_stream(s);
    ++s.epoch;
    s.position = s.fetch_offset = l.offset;
    s.reset_spec.reset();
    s.error.reset();
    s.blocked = false;
  }
  wake_fetcher();
  return Status();
}

// ---- the public class ----

consumer::consumer(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
consumer::~consumer() {
  if (impl_) close();  // leaves the group, if in one
}

Result<std::unique_ptr<consumer>> consumer::create(const consumer_config& config) {
  auto bad = [](std::string m) { return client_error(client_errc::invalid_argument, "consumer config: " + m); };
  if (client::parse_bootstrap(config.client.bootstrap).empty()) return bad("empty bootstrap");
  if (config.partition_max_bytes <= 0 || config.fetch_max_bytes <= 0) return bad("fetch byte limits must be > 0");
  if (config.fetch_max_wait_ms < 0 || config.client.request_timeout_ms <= 0) return bad("bad time limit");
  if (config.max_poll_records == 0) return bad("max_poll_records must be > 0");
  return std::unique_ptr<consumer>(new consumer(std::make_unique<impl>(config)));
}

Status consumer::assign(const std::vector<topic_partition>& partitions) {
  std::lock_guard lock(impl_->mu_);
  if (impl_->closed_) return client_error(client_errc::closed, "assign: the consumer is closed");
  if (impl_->group_) return client_error(client_errc::invalid_argument, "assign: subscribed to a group (unsubscribe first)");
  for (const auto& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0) return client_error(client_errc::invalid_argument, "assign: bad topic-partition");
  }
  for (auto it = impl_->parts_.begin(); it != impl_->parts_.end();) {
    if (std::find(partitions.begin(), partitions.end(), it->first) == partitions.end()) {
      impl_->drop_buffered(it->second);
      impl_->detach_stream(it->second);
      it = impl_->parts_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& tp : partitions) {
    if (impl_->parts_.count(tp)) continue;
    impl_->set_reset(impl_->parts_[tp]);
  }
  impl_->manual_ = !partitions.empty();
  impl_->wake_fetcher();
  return Status();
}

std::vector<topic_partition> consumer::assignment() const {
  std::lock_guard lock(impl_->mu_);
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : impl_->parts_) out.push_back(tp);
  return out;
}

Status consumer::seek(const topic_partition& tp, int64_t offset) {
  if (offset < 0) return client_error(client_errc::invalid_argument, "seek: negative offset");
  std::lock_guard lock(impl_->mu_);
  auto it = impl_->parts_.find(tp);
  if (it == impl_->parts_.end()) {
    return client_error(client_errc::invalid_argument, "seek: " + tp.topic + "-" + std::to_string(tp.partition) + " is not assigned");
  }
  auto& s = it->second;
  impl_->drop_buffered(s);
  impl_->detach_stream(s);
  ++s.epoch;
  s.position = s.fetch_offset = offset;
  s.reset_spec.reset();
  s.error.reset();
  s.blocked = false;
  s.backoff_until_ms = 0;
  impl_->wake_fetcher();
  return Status();
}

Status consumer::seek_to_beginning(const std::vector<topic_partition>& partitions) {
  return impl_->seek_with_spec(partitions, kEarliestOffsetSpec);
}
Status consumer::seek_to_end(const std::vector<topic_partition>& partitions) {
  return impl_->seek_with_spec(partitions, kLatestOffsetSpec);
}
Status consumer::seek_to_timestamp(const std::vector<topic_partition>& partitions, int64_t timestamp_ms) {
  if (timestamp_ms < 0) return client_error(client_errc::invalid_argument, "seek_to_timestamp: negative timestamp");
  return impl_->seek_with_spec(partitions, timestamp_ms);
}

Result<int64_t> consumer::position(const topic_partition& tp) {
  std::optional<int64_t> spec;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(impl_->mu_);
    auto it = impl_->parts_.find(tp);
    if (it == impl_->parts_.end()) {
      return client_error(client_errc::invalid_argument, "position: " + tp.topic + "-" + std::to_string(tp.partition) + " is not assigned");
    }
    if (it->second.position >= 0) return it->second.position;
    if (it->second.error) return *it->second.error;
    spec = it->second.reset_spec;
    epoch = it->second.epoch;
  }
  if (!spec) return client_error(client_errc::no_offset, "position: no position and auto_offset_reset is none");
  KAPPA_ASSIGN_OR_RETURN(auto listed, client::list_offsets(impl_->pool_, impl_->metadata_, {{tp, *spec}}));
  if (!listed[0].status.ok()) return listed[0].status;
  std::lock_guard lock(impl_->mu_);
  auto it = impl_->parts_.find(tp);
  if (it == impl_->parts_.end()) return client_error(client_errc::invalid_argument, "position: unassigned meanwhile");
  auto& s = it->second;
  if (s.position < 0 && s.epoch == epoch) {
    s.position = s.fetch_offset = listed[0].offset;
    s.reset_spec.reset();
    impl_->wake_fetcher();
  }
  return s.position;
}

Result<std::vector<consumed_record>> consumer::poll(int64_t timeout_ms) {
  auto& im = *impl_;
  const auto deadline = client::steady::now() + std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
  // One poll at a time: chunks are decoded outside mu_, and two polls
  // decoding one partition's chunks at once would return them out of order.
  std::unique_lock poll_lock(im.poll_mu_, std::defer_lock);
  if (!poll_lock.try_lock_until(deadline)) return std::vector<consumed_record>{};
  // Lets close()/unsubscribe() called from a rebalance callback go ahead.
  struct poller_mark {
    std::atomic<std::thread::id>& id;
    explicit poller_mark(std::atomic<std::thread::id>& i) : id(i) { id.store(std::this_thread::get_id()); }
    ~poller_mark() { id.store(std::thread::id()); }
  } mark(im.poll_thread_);
  std::unique_lock lock(im.mu_);
  std::vector<consumed_record> out;
  bool reconciled = false;
  while (true) {
    if (im.closed_) return client_error(client_errc::closed, "poll: the consumer is closed");
    // Group assignment changes (and the auto-commit) come first, before
    // any record is taken: once per poll, and again when the member has
    // news. Callbacks run here, without mu_.
    if (im.group_ && (!reconciled || im.group_dirty_)) {
      reconciled = true;
      lock.unlock();
      Status st = im.reconcile_group(*this);
      lock.lock();
      if (!st.ok()) return st;
      if (im.closed_) return client_error(client_errc::closed, "poll: the consumer is closed");
    }
    for (auto& [tp, s] : im.parts_) {
      if (s.error && !s.blocked) {
        s.blocked = true;
        im.drop_buffered(s);
        im.detach_stream(s);
        Status st = std::move(*s.error);
        s.error.reset();
        return st;
      }
    }
    std::vector<impl::taken_chunks> taken = im.take_chunks();
    if (!taken.empty()) {
      im.wake_fetcher();  // the prefetch buffer has room again
      // Decoding (CRC, record copies) is the bulk of a poll: done without
      // mu_, so fetch completions land and the next fetch goes out meanwhile.
      lock.unlock();
      size_t declared = 0;
      for (const auto& t : taken) declared += t.declared_records;
      out.reserve(out.size() + declared);
      for (auto& t : taken) im.decode_taken(t, out);
      lock.lock();
      im.apply_decoded(taken, out);
    }
    if (!out.empty()) return out;
    if (im.woken_) {
      im.woken_ = false;
      return out;
    }
    if (!taken.empty()) continue;  // all skipped (control batches): look again at once
    if (im.data_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (client::steady::now() >= deadline) return out;
    }
  }
}

Status consumer::pause(const std::vector<topic_partition>& partitions) {
  std::lock_guard lock(impl_->mu_);
  for (const auto& tp : partitions) {
    auto it = impl_->parts_.find(tp);
    if (it == impl_->parts_.end()) return client_error(client_errc::invalid_argument, "pause: not assigned");
    it->second.paused = true;
  }
  return Status();
}

Status consumer::resume(const std::vector<topic_partition>& partitions) {
  std::lock_guard lock(impl_->mu_);
  for (const auto& tp : partitions) {
    auto it = impl_->parts_.find(tp);
    if (it == impl_->parts_.end()) return client_error(client_errc::invalid_argument, "resume: not assigned");
    it->second.paused = false;
  }
  impl_->wake_fetcher();
  return Status();
}

std::vector<topic_partition> consumer::paused() const {
  std::lock_guard lock(impl_->mu_);
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : impl_->parts_) {
    if (s.paused) out.push_back(tp);
  }
  return out;
}

size_t consumer::prefetched_bytes() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->buffered_total_;
}

void consumer::wakeup() {
  std::lock_guard lock(impl_->mu_);
  impl_->woken_ = true;
  impl_->data_cv_.notify_all();
}

}  // namespace kappa
