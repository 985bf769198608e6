// The consumer's fetcher thread and fetch completions.
#include <algorithm>
#include <chrono>

#include "client/src/backoff.h"
#include "client/src/consumer_impl.h"
#include "client/src/fetch_decode.h"
#include "client/src/list_offsets.h"

namespace kappa {

using client::now_ms;
namespace v1 = client::v1;

void consumer::impl::drop_buffered(partition_state& s) {
  KAPPA_ASSERT(buffered_total_ >= s.buffered_bytes);
  buffered_total_ -= s.buffered_bytes;
  s.buffered_bytes = 0;
  s.chunks.clear();
}

void consumer::impl::set_reset(partition_state& s) {
  s.position = -1;
  s.fetch_offset = -1;
  ++s.epoch;
  detach_stream(s);
  drop_buffered(s);
  switch (config_.auto_offset_reset) {
    case offset_reset::earliest: s.reset_spec = kEarliestOffsetSpec; break;
    case offset_reset::latest: s.reset_spec = kLatestOffsetSpec; break;
    case offset_reset::none: s.reset_spec.reset(); break;
  }
}

void consumer::impl::wake_fetcher() {
  if (wake_pending_ || cq_closing_) return;
  wake_pending_ = true;
  wake_alarm_.Set(&cq_, gpr_now(GPR_CLOCK_REALTIME), &wake_alarm_);
}

void consumer::impl::handle_tag(void* tag, bool ok) {
  if (tag == &wake_alarm_) {
    std::lock_guard lock(mu_);
    wake_pending_ = false;
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto* st = static_cast<fetch_stream*>(tag);
    if (streams_.count(st)) {
      on_stream_event(st, ok);
      return;
    }
  }
  auto* call = static_cast<fetch_call*>(tag);
  on_fetch_done(call, call->status);
  delete call;
}

void consumer::impl::handle_events(std::chrono::system_clock::time_point deadline) {
  void* tag = nullptr;
  bool ok = false;
  // Block for the first event, then take whatever else is already there.
  auto status = cq_.AsyncNext(&tag, &ok, deadline);
  for (int i = 0; i < 1000 && status == grpc::CompletionQueue::GOT_EVENT; ++i) {
    handle_tag(tag, ok);
    status = cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now());
  }
}

void consumer::impl::run_fetcher() {
  std::unique_lock lock(mu_);
  while (!closed_) {
    resolve_resets(lock);
    if (closed_) break;
    issue_fetches(lock);
    lock.unlock();
    const int64_t idle_ms = std::clamp<int64_t>(config_.client.retry_backoff_min_ms, 1, 100);
    handle_events(std::chrono::system_clock::now() + std::chrono::milliseconds(idle_ms));
    lock.lock();
  }
  // Exit: cancel what is in flight and wait for every tag to come back.
  // Every call and stream is cancelled (again) each round, so one started
  // or left uncancelled by a completion handled here cannot keep a long
  // poll or a tail open: cancelled operations complete promptly.
  cq_closing_ = true;
  for (auto& [tp, s] : parts_) detach_stream(s);
  for (auto* st : streams_) continue_stream(st);  // idle detached ones finish now
  const bool alarm_pending = wake_pending_;
  lock.unlock();
  if (alarm_pending) wake_alarm_.Cancel();
  for (;;) {
    {
      std::lock_guard guard(mu_);
      if (calls_.empty() && streams_.empty() && !wake_pending_) break;
      for (auto* call : calls_) call->context.TryCancel();
      for (auto* st : streams_) {
        st->context.TryCancel();
        continue_stream(st);
      }
    }
    void* tag = nullptr;
    bool ok = false;
    const auto status =
        cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    if (status == grpc::CompletionQueue::SHUTDOWN) break;
    if (status == grpc::CompletionQueue::GOT_EVENT) handle_tag(tag, ok);
  }
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
}

// Partitions without a position get one from ListOffsets (earliest/latest),
// or, under offset_reset::none, an error for poll().
void consumer::impl::resolve_resets(std::unique_lock<std::mutex>& lock) {
  std::vector<std::pair<topic_partition, int64_t>> specs;
  std::vector<uint64_t> epochs;
  const int64_t now = now_ms();
  for (auto& [tp, s] : parts_) {
    if (s.position >= 0 || s.held || s.blocked || s.error || now < s.backoff_until_ms) continue;
    if (!s.reset_spec) {
      s.error = client_error(client_errc::no_offset, "no position for " + tp.topic + "-" +
                                                         std::to_string(tp.partition) +
                                                         " and auto_offset_reset is none: seek first");
      data_cv_.notify_all();
      continue;
    }
    specs.emplace_back(tp, *s.reset_spec);
    epochs.push_back(s.epoch);
  }
  if (specs.empty()) return;
  lock.unlock();
  auto listed = client::list_offsets(pool_, metadata_, specs);
  lock.lock();
  for (size_t i = 0; i < specs.size(); ++i) {
    auto it = parts_.find(specs[i].first);
    if (it == parts_.end() || it->second.epoch != epochs[i] || it->second.position >= 0) continue;
    partition_state& s = it->second;
    const Status st = listed.ok() ? (*listed)[i].status : listed.status();
    if (st.ok()) {
      s.position = s.fetch_offset = (*listed)[i].offset;
      s.reset_spec.reset();
      s.attempts = 0;
    } else if (is_retriable(st.code())) {
      s.backoff_until_ms = now_ms() + client::backoff_ms(config_.client, ++s.attempts);
    } else {
      s.error = st;
      data_cv_.notify_all();
    }
  }
}

void consumer::impl::issue_fetches(std::unique_lock<std::mutex>& lock) {
  const int64_t now = now_ms();
  std::map<std::string, fetch_call*> calls;
  std::vector<std::string> unknown_topics;
  for (auto& [tp, s] : parts_) {
    if (s.position < 0 || s.held || s.paused || s.fetching || s.blocked || s.error ||
        now < s.backoff_until_ms) {
      continue;
    }
    if (!has_room(s)) continue;  // the prefetch bound
    auto leader = metadata_.leader(tp.topic, tp.partition);
    if (s.stream != nullptr) {
      if (!leader || *leader == s.stream->address) {
        continue_stream(s.stream);  // reads again if it was idle for want of room
        continue;
      }
      // The metadata names another leader (a refresh, e.g. the periodic one)
      // while this stream idles at the old one, which may be cut off and
      // not know it: reopen there from fetch_offset. What the old stream
      // still delivers is dropped (it is detached), so nothing comes twice.
      detach_stream(s);
    }
    if (!leader) {
      unknown_topics.push_back(tp.topic);
      continue;
    }
    if (!no_stream_.count(*leader)) {
      open_stream(tp, s, *leader);
      continue;
    }
    if (busy_.count(*leader)) continue;
    fetch_call*& call = calls[*leader];
    if (call == nullptr) {
      call = new fetch_call;
      call->address = *leader;
      call->request.set_max_wait_ms(config_.fetch_max_wait_ms);
      call->request.set_min_bytes(config_.fetch_min_bytes);
      call->request.set_max_bytes(config_.fetch_max_bytes);
    }
    v1::FetchTopic* topic = nullptr;
    for (auto& t : *call->request.mutable_topics()) {
      if (t.topic() == tp.topic) topic = &t;
    }
    if (topic == nullptr) {
      topic = call->request.add_topics();
      topic->set_topic(tp.topic);
    }
    auto* p = topic->add_partitions();
    p->set_partition(tp.partition);
    p->set_fetch_offset(s.fetch_offset);
    p->set_partition_max_bytes(config_.partition_max_bytes);
    p->set_current_leader_epoch(-1);
    call->epochs[tp] = s.epoch;
    s.fetching = true;
  }
  for (auto& [address, call] : calls) {
    busy_.insert(address);
    calls_.insert(call);
  }
  lock.unlock();
  for (auto& [address, call] : calls) {
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(config_.fetch_max_wait_ms + config_.client.request_timeout_ms));
    call->reader = pool_.broker(address)->PrepareAsyncFetch(&call->context, call->request, &cq_);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  }
  if (!unknown_topics.empty()) {
    // Tracks them; a failure shows up as no leader next round.
    (void)metadata_.maybe_refresh(unknown_topics);
  } else {
    (void)metadata_.maybe_refresh();  // stale partitions, or the periodic refresh
  }
  lock.lock();
}

void consumer::impl::take_fetched(partition_state& s, std::string&& bytes) {
  const int64_t next = client::next_fetch_offset(bytes, s.fetch_offset);
  if (next > s.fetch_offset) {
    s.fetch_offset = next;
    s.data_end = std::max(s.data_end, next);
    s.buffered_bytes += bytes.size();
    buffered_total_ += bytes.size();
    s.chunks.push_back(std::move(bytes));
  }
  s.attempts = 0;
  s.out_of_range_since_ms = -1;
}

void consumer::impl::retry_partition(const topic_partition& tp, partition_state& s, v1::ErrorCode code,
                                     const std::string& from, const v1::LeaderHint* hint) {
  bool rerouted = false;
  if (code == v1::NOT_LEADER_OR_FOLLOWER && hint != nullptr) {
    rerouted = metadata_.not_leader(tp.topic, tp.partition, from, *hint);
  } else {
    // Leader gone, unknown, or unreachable: no leader until the next
    // (rate-limited) refresh says who it is now.
    metadata_.invalidate(tp.topic, tp.partition);
  }
  ++s.attempts;
  // The fetch resumes from fetch_offset on the new leader: what was
  // buffered stays, nothing is fetched twice or skipped.
  s.backoff_until_ms = rerouted && s.attempts <= 2 ? 0 : now_ms() + client::backoff_ms(config_.client, s.attempts);
}

bool consumer::impl::transient_out_of_range(const topic_partition& tp, partition_state& s,
                                            const v1::OffsetRange& range, const std::string& from) {
  // Only "past the end" of data this consumer already saw exist; a new
  // leader learns the commit index (its high watermark) a moment after
  // its election. Bounded, so a log that really was truncated or recreated
  // is reset as before.
  if (s.data_end < s.fetch_offset || s.fetch_offset <= range.high_watermark()) return false;
  const int64_t now = now_ms();
  if (s.out_of_range_since_ms < 0) s.out_of_range_since_ms = now;
  if (now - s.out_of_range_since_ms > config_.client.request_timeout_ms) {
    s.out_of_range_since_ms = -1;
    return false;
  }
  retry_partition(tp, s, v1::OFFSET_OUT_OF_RANGE, from, nullptr);
  return true;
}

void consumer::impl::on_fetch_done(fetch_call* call, const grpc::Status& status) {
  std::lock_guard lock(mu_);
  busy_.erase(call->address);
  calls_.erase(call);
  std::map<topic_partition, v1::FetchPartitionResponse*> answers;
  if (status.ok()) {
    for (auto& t : *call->response.mutable_topics()) {
      for (auto& p : *t.mutable_partitions()) answers[{t.topic(), p.partition()}] = &p;
    }
  }
  for (const auto& [tp, epoch] : call->epochs) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;  // unassigned meanwhile
    partition_state& s = it->second;
    s.fetching = false;
    if (s.epoch != epoch) continue;  // a seek overtook this fetch
    auto answer = answers.find(tp);
    const bool transport = !status.ok() || answer == answers.end();
    const v1::ErrorCode code = transport ? v1::UNKNOWN_SERVER_ERROR : answer->second->error_code();
    if (!transport && code == v1::NONE) {
      // The call owns its response and is deleted after this: take the
      // bytes instead of copying a partition_max_bytes-sized string.
      take_fetched(s, std::move(*answer->second->mutable_records()));
      continue;
    }
    if (!transport && code == v1::OFFSET_OUT_OF_RANGE &&
        transient_out_of_range(tp, s, answer->second->valid_range(), call->address)) {
      continue;
    }
    if (!transport && code == v1::OFFSET_OUT_OF_RANGE && config_.auto_offset_reset != offset_reset::none) {
      set_reset(s);
      continue;
    }
    Status st = transport ? client::from_grpc(status.ok() ? grpc::Status(grpc::StatusCode::INTERNAL, "partition missing from fetch response") : status,
                                              "fetch from " + call->address)
                          : client::from_code(code, answer->second->error_message(),
                                              "fetch " + tp.topic + "-" + std::to_string(tp.partition));
    if (transport || is_retriable(st.code())) {
      retry_partition(tp, s, transport ? v1::UNKNOWN_SERVER_ERROR : code, call->address,
                      transport ? nullptr : &answer->second->current_leader());
    } else {
      s.error = std::move(st);
    }
  }
  data_cv_.notify_all();
}

}  // namespace kappa
