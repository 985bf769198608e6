// An in-process fake of kappa.v1.Broker for libkappa tests, on 127.0.0.1
// with a kernel-chosen port. It keeps logs in memory, applies idempotent
// sequence dedup as the real broker does (last 5 batches per producer and
// partition: a duplicate answers the original offset), records every
// produce attempt, and injects failures: NOT_LEADER_OR_FOLLOWER, a response
// dropped by breaking the stream after the append, NOT_ENOUGH_REPLICAS
// after the append, or withheld responses.
// The state outlives a server, so a test can stop the server and start a
// new one on the same port (a broker restart).
//
// A cluster: several servers (broker ids 1, 2, ...) may share one state,
// which then stands for perfectly replicated logs. Each partition has a
// leader (broker 1 at epoch 0 unless moved); the others answer produce,
// fetch and list-offsets for it with NOT_LEADER_OR_FOLLOWER and a leader
// hint (LEADER_NOT_AVAILABLE while it has no leader), as kappad does.
// FetchStream is served only when enabled (else UNIMPLEMENTED, and the
// consumer falls back to unary Fetch).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kappa/types.h"
#include "kappa/v1/broker.grpc.pb.h"
#include "proto/format/batch_validator.h"
#include "proto/format/record_batch.h"
#include "proto/format/records.h"

namespace kappa::test {

namespace v1 = ::kappa::v1;

enum class produce_fault {
  not_leader,          // answer NOT_LEADER_OR_FOLLOWER, append nothing
  drop_response,       // append, then break the stream instead of answering
  too_large,           // answer MESSAGE_TOO_LARGE (not retriable), append nothing
  not_enough_replicas, // append (it may still commit), answer NOT_ENOUGH_REPLICAS
  unknown_topic,       // answer UNKNOWN_TOPIC_OR_PARTITION (a topic still being created), append nothing
};

struct produce_attempt {
  int32_t broker = 1;  // the broker that received it
  topic_partition tp;
  int64_t producer_id = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;
};

class fake_broker_state {
 public:
  std::string address;  // "127.0.0.1:port", set by the server

  void create_topic(const std::string& name, int partitions) {
    std::lock_guard lock(mu_);
    topics_[name] = partitions;
  }
  // A server registers itself; Metadata lists every registered broker.
  void register_broker(int32_t id, const std::string& broker_address) {
    std::lock_guard lock(mu_);
    brokers_[id] = broker_address;
  }
  // A new leader (-1: none, an election) at the next epoch.
  void move_leader(const topic_partition& tp, int32_t leader_id) {
    std::lock_guard lock(mu_);
    leader_state& l = leaders_[tp];
    l.id = leader_id;
    ++l.epoch;
  }
  int32_t leader_of(const topic_partition& tp) const {
    std::lock_guard lock(mu_);
    return leader_locked(tp).id;
  }
  // Without hints a client must find the new leader through Metadata.
  void set_leader_hints(bool on) { hints_.store(on); }
  void set_fetch_stream(bool on) { fetch_stream_.store(on); }
  // A former leader cut off from the others that does not know it lost the
  // leadership: its FetchStreams go silent instead of redirecting.
  void set_silent_former_leader(bool on) { silent_former_leader_.store(on); }
  bool fetch_stream_enabled() const { return fetch_stream_.load(); }
  int produce_requests_at(int32_t broker) const {
    std::lock_guard lock(mu_);
    auto it = produce_requests_by_.find(broker);
    return it == produce_requests_by_.end() ? 0 : it->second;
  }
  // NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE answers given.
  int redirects() const { return redirects_.load(); }
  // With a not_enough_replicas fault, the leader also loses its leadership
  // to `id` right after the append (the batch is in the shared log: it
  // "committed" on the new leader).
  void move_leader_on_fault(int32_t id) {
    std::lock_guard lock(mu_);
    move_on_fault_ = id;
  }
  // Broker `id` reports at most `hw` as its high watermark for `ms` from
  // now: a new leader that has not learnt the commit index yet.
  void lag_high_watermark(int32_t id, int64_t hw, int64_t ms) {
    std::lock_guard lock(mu_);
    lagging_broker_ = id;
    lagging_hw_ = hw;
    lagging_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  }
  int fetches_at(int32_t broker) const {
    std::lock_guard lock(mu_);
    auto it = fetches_by_.find(broker);
    return it == fetches_by_.end() ? 0 : it->second;
  }
  void inject(produce_fault f) {
    std::lock_guard lock(mu_);
    faults_.push_back(f);
  }
  void set_withhold_responses(bool withhold) { withhold_.store(withhold); }
  bool withhold_responses() const { return withhold_.load(); }

  // Appends a batch as-is (offsets stamped), e.g. a control batch.
  int64_t append_raw(const topic_partition& tp, byte_buffer bytes) {
    std::lock_guard lock(mu_);
    return append_locked(tp, std::move(bytes));
  }

  std::vector<produce_attempt> attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  int metadata_requests() const { return metadata_requests_.load(); }
  int produce_requests() const { return produce_requests_.load(); }

  // Every record stored in a partition, control batches excluded.
  std::vector<format::record> records(const topic_partition& tp) const {
    std::lock_guard lock(mu_);
    std::vector<format::record> out;
    auto it = logs_.find(tp);
    if (it == logs_.end()) return out;
    for (const auto& b : it->second) {
      if (format::read_header(b).is_control()) continue;
      byte_buffer scratch;
      auto decoded = format::decode_records(b, scratch);
      if (!decoded.ok()) continue;
      for (const auto& r : *decoded) {
        format::record rec;
        if (r.value) rec.value = std::string(as_chars(*r.value));
        if (r.key) rec.key = std::string(as_chars(*r.key));
        rec.timestamp = r.timestamp;
        out.push_back(std::move(rec));
      }
    }
    return out;
  }

  void metadata(const v1::MetadataRequest& request, v1::MetadataResponse* response) {
    ++metadata_requests_;
    std::lock_guard lock(mu_);
    for (const auto& [id, a] : brokers_) {
      auto* b = response->add_brokers();
      b->set_id(id);
      b->set_address(a);
      b->set_alive(true);
    }
    response->set_controller_id(1);
    for (const auto& name : request.topics()) {
      auto* t = response->add_topics();
      t->set_name(name);
      auto it = topics_.find(name);
      if (it == topics_.end()) {
        t->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      for (int p = 0; p < it->second; ++p) {
        const leader_state l = leader_locked({name, p});
        auto* pm = t->add_partitions();
        pm->set_partition(p);
        pm->set_leader_id(l.id);
        pm->set_leader_epoch(l.epoch);
        if (l.id < 0) pm->set_error_code(v1::LEADER_NOT_AVAILABLE);
        for (const auto& [id, a] : brokers_) pm->add_replicas(id);
      }
    }
  }

  // A fresh id, or the same id with the next epoch (the dedup window of a
  // bumped producer starts empty).
  void init_producer_id(const v1::InitProducerIdRequest& request, v1::InitProducerIdResponse* response) {
    ++init_requests_;
    std::lock_guard lock(mu_);
    if (request.producer_id() >= 0) {
      response->set_producer_id(request.producer_id());
      response->set_producer_epoch(request.producer_epoch() + 1);
      for (auto it = dedup_.begin(); it != dedup_.end();) {
        it = it->first.second == request.producer_id() ? dedup_.erase(it) : std::next(it);
      }
      return;
    }
    response->set_producer_id(next_producer_id_++);
    response->set_producer_epoch(0);
  }
  int init_requests() const { return init_requests_.load(); }

  // Returns false when the response must be dropped (the stream broken).
  // `self` is the broker id of the server that received it.
  bool produce(const v1::ProduceRequest& request, v1::ProduceResponse* response, int32_t self = 1) {
    ++produce_requests_;
    std::lock_guard lock(mu_);
    ++produce_requests_by_[self];
    std::optional<produce_fault> fault;
    // Faults are for the leader to act out: a follower only redirects.
    bool leads_any = false;
    for (const auto& t : request.topics()) {
      for (const auto& p : t.partitions()) leads_any |= leader_locked({t.topic(), p.partition()}).id == self;
    }
    if (!faults_.empty() && leads_any) {
      fault = faults_.front();
      faults_.pop_front();
    }
    response->set_correlation_id(request.correlation_id());
    for (const auto& t : request.topics()) {
      auto* tr = response->add_topics();
      tr->set_topic(t.topic());
      for (const auto& p : t.partitions()) {
        auto* pr = tr->add_partitions();
        pr->set_partition(p.partition());
        pr->set_log_append_time_ms(-1);
        produce_partition({t.topic(), p.partition()}, p.records(), fault, pr, self);
      }
    }
    return fault != produce_fault::drop_response;
  }

  void fetch(const v1::FetchRequest& request, v1::FetchResponse* response, int32_t self = 1) {
    std::lock_guard lock(mu_);
    ++fetches_by_[self];
    for (const auto& t : request.topics()) {
      auto* tr = response->add_topics();
      tr->set_topic(t.topic());
      for (const auto& p : t.partitions()) {
        auto* pr = tr->add_partitions();
        pr->set_partition(p.partition());
        const topic_partition tp{t.topic(), p.partition()};
        if (!known(tp)) {
          pr->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
          continue;
        }
        if (redirect_locked(tp, self, pr)) continue;
        const int64_t hw = high_watermark_locked(tp, self);
        pr->set_high_watermark(hw);
        pr->set_log_start_offset(0);
        if (p.fetch_offset() < 0 || p.fetch_offset() > hw) {
          pr->set_error_code(v1::OFFSET_OUT_OF_RANGE);
          pr->mutable_valid_range()->set_log_start_offset(0);
          pr->mutable_valid_range()->set_high_watermark(hw);
          continue;
        }
        std::string bytes;
        for (const auto& b : logs_[tp]) {
          const auto h = format::read_header(b);
          if (h.last_offset() < p.fetch_offset()) continue;
          if (!bytes.empty() && bytes.size() + b.size() > static_cast<size_t>(p.partition_max_bytes())) break;
          if (h.last_offset() >= hw) break;
          bytes.append(as_chars(b));
        }
        pr->set_records(std::move(bytes));
      }
    }
  }

  // One FetchStream message from `offset`: records (possibly none yet), or
  // an error after which the stream ends (returns true).
  bool fetch_stream_chunk(int32_t self, const topic_partition& tp, int64_t offset, int32_t max_bytes,
                          v1::FetchStreamResponse* m) {
    std::lock_guard lock(mu_);
    ++fetches_by_[self];
    if (!known(tp)) {
      m->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
      return true;
    }
    if (silent_former_leader_.load() && leader_locked(tp).id != self) return false;  // no records: wait
    v1::FetchPartitionResponse redirect;
    if (redirect_locked(tp, self, &redirect)) {
      m->set_error_code(redirect.error_code());
      *m->mutable_current_leader() = redirect.current_leader();
      return true;
    }
    const int64_t hw = high_watermark_locked(tp, self);
    m->set_high_watermark(hw);
    if (offset < 0 || offset > hw) {
      m->set_error_code(v1::OFFSET_OUT_OF_RANGE);
      m->mutable_valid_range()->set_log_start_offset(0);
      m->mutable_valid_range()->set_high_watermark(hw);
      return true;
    }
    std::string bytes;
    int64_t next = offset;
    for (const auto& b : logs_[tp]) {
      const auto h = format::read_header(b);
      if (h.last_offset() < offset) continue;
      if (h.last_offset() >= hw) break;
      if (!bytes.empty() && max_bytes > 0 && bytes.size() + b.size() > static_cast<size_t>(max_bytes)) break;
      bytes.append(as_chars(b));
      next = h.last_offset() + 1;
    }
    m->set_records(std::move(bytes));
    m->set_next_offset(next);
    return false;
  }

  void list_offsets(const v1::ListOffsetsRequest& request, v1::ListOffsetsResponse* response, int32_t self = 1) {
    std::lock_guard lock(mu_);
    for (const auto& t : request.topics()) {
      auto* tr = response->add_topics();
      tr->set_topic(t.topic());
      for (const auto& p : t.partitions()) {
        auto* pr = tr->add_partitions();
        pr->set_partition(p.partition());
        const topic_partition tp{t.topic(), p.partition()};
        if (!known(tp)) {
          pr->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
          continue;
        }
        v1::FetchPartitionResponse redirect;
        if (redirect_locked(tp, self, &redirect)) {
          pr->set_error_code(redirect.error_code());
          continue;
        }
        const int64_t hw = next_offset_[tp];
        pr->set_timestamp(-1);
        if (p.timestamp() == kEarliestOffsetSpec) {
          pr->set_offset(0);
        } else if (p.timestamp() == kLatestOffsetSpec) {
          pr->set_offset(hw);
        } else {
          pr->set_offset(hw);
          for (const auto& b : logs_[tp]) {
            const auto h = format::read_header(b);
            if (h.is_control() || h.max_timestamp < p.timestamp()) continue;
            byte_buffer scratch;
            auto decoded = format::decode_records(b, scratch);
            bool found = false;
            for (const auto& r : *decoded) {
              if (r.timestamp >= p.timestamp()) {
                pr->set_offset(r.offset);
                pr->set_timestamp(r.timestamp);
                found = true;
                break;
              }
            }
            if (found) break;
          }
        }
      }
    }
  }

 private:
  struct leader_state {
    int32_t id = 1;
    int32_t epoch = 0;
  };
  leader_state leader_locked(const topic_partition& tp) const {
    auto it = leaders_.find(tp);
    return it == leaders_.end() ? leader_state{} : it->second;
  }
  // True (and the error set on `out`) when `self` does not lead `tp`.
  template <typename Response>
  bool redirect_locked(const topic_partition& tp, int32_t self, Response* out) const {
    const leader_state l = leader_locked(tp);
    if (l.id == self) return false;
    ++redirects_;
    if (l.id < 0) {
      out->set_error_code(v1::LEADER_NOT_AVAILABLE);
      return true;
    }
    out->set_error_code(v1::NOT_LEADER_OR_FOLLOWER);
    if (hints_.load()) {
      auto* hint = out->mutable_current_leader();
      hint->set_leader_id(l.id);
      auto b = brokers_.find(l.id);
      hint->set_leader_address(b == brokers_.end() ? "" : b->second);
      hint->set_leader_epoch(l.epoch);
    }
    return true;
  }

  int64_t high_watermark_locked(const topic_partition& tp, int32_t self) {
    const int64_t hw = next_offset_[tp];
    if (self == lagging_broker_ && std::chrono::steady_clock::now() < lagging_until_) return std::min(hw, lagging_hw_);
    return hw;
  }

  bool known(const topic_partition& tp) const {
    auto it = topics_.find(tp.topic);
    return it != topics_.end() && tp.partition >= 0 && tp.partition < it->second;
  }

  int64_t append_locked(const topic_partition& tp, byte_buffer bytes) {
    const int64_t base = next_offset_[tp];
    format::stamp_batch(bytes, base, 0);
    next_offset_[tp] = base + format::read_header(bytes).last_offset_delta + 1;
    logs_[tp].push_back(std::move(bytes));
    return base;
  }

  void produce_partition(const topic_partition& tp, const std::string& records, std::optional<produce_fault> fault,
                         v1::PartitionProduceResponse* out, int32_t self) {
    if (!known(tp)) {
      out->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
      return;
    }
    auto headers = format::validate_batches(as_bytes(records), {}, format::validation_depth::records);
    if (!headers.ok()) {
      out->set_error_code(v1::CORRUPT_MESSAGE);
      out->set_error_message(headers.status().message());
      return;
    }
    size_t pos = 0;
    bool first = true;
    for (const auto& h : *headers) {
      attempts_.push_back({self, tp, h.producer_id, h.base_sequence, h.record_count});
      byte_buffer bytes(records.begin() + static_cast<long>(pos), records.begin() + static_cast<long>(pos + h.size_bytes()));
      pos += h.size_bytes();
      if (redirect_locked(tp, self, out)) return;
      if (fault == produce_fault::not_leader) {
        out->set_error_code(v1::NOT_LEADER_OR_FOLLOWER);
        return;
      }
      if (fault == produce_fault::unknown_topic) {
        out->set_error_code(v1::UNKNOWN_TOPIC_OR_PARTITION);
        return;
      }
      if (fault == produce_fault::too_large) {
        out->set_error_code(v1::MESSAGE_TOO_LARGE);
        return;
      }
      int64_t base = -1;
      if (h.producer_id >= 0) {
        auto& window = dedup_[{tp, h.producer_id}];
        for (const auto& e : window) {
          if (e.first == h.base_sequence) base = e.second;  // duplicate: the original offset
        }
        if (base < 0 && !window.empty()) {
          const auto& last = window.back();
          const int32_t expected = last.first + last_counts_[{tp, h.producer_id}];
          if (h.base_sequence != expected) {
            out->set_error_code(v1::OUT_OF_ORDER_SEQUENCE_NUMBER);
            return;
          }
        }
        if (base < 0) {
          base = append_locked(tp, std::move(bytes));
          window.emplace_back(h.base_sequence, base);
          last_counts_[{tp, h.producer_id}] = h.record_count;
          if (window.size() > 5) window.pop_front();
        }
      } else {
        base = append_locked(tp, std::move(bytes));
      }
      if (first) out->set_base_offset(base);
      first = false;
    }
    if (fault == produce_fault::not_enough_replicas) {
      out->set_error_code(v1::NOT_ENOUGH_REPLICAS);
      out->set_base_offset(-1);
      if (move_on_fault_ >= 0) {
        leader_state& l = leaders_[tp];
        l.id = move_on_fault_;
        ++l.epoch;
      }
    }
  }

  mutable std::mutex mu_;
  std::map<std::string, int> topics_;
  std::map<topic_partition, std::vector<byte_buffer>> logs_;
  std::map<topic_partition, int64_t> next_offset_;
  std::map<std::pair<topic_partition, int64_t>, std::deque<std::pair<int32_t, int64_t>>> dedup_;
  std::map<std::pair<topic_partition, int64_t>, int32_t> last_counts_;
  std::vector<produce_attempt> attempts_;
  std::deque<produce_fault> faults_;
  std::map<int32_t, std::string> brokers_;
  std::map<topic_partition, leader_state> leaders_;
  std::map<int32_t, int> produce_requests_by_;
  std::map<int32_t, int> fetches_by_;
  int32_t move_on_fault_ = -1;
  int32_t lagging_broker_ = -1;
  int64_t lagging_hw_ = 0;
  std::chrono::steady_clock::time_point lagging_until_;
  mutable std::atomic<int> redirects_{0};
  std::atomic<bool> hints_{true};
  std::atomic<bool> fetch_stream_{false};
  std::atomic<bool> silent_former_leader_{false};
  std::atomic<bool> withhold_{false};
  std::atomic<int> metadata_requests_{0};
  std::atomic<int> init_requests_{0};
  std::atomic<int> produce_requests_{0};
  std::atomic<int64_t> next_producer_id_{1000};
};

// The ProduceStream server side: handles requests in order, answers in order.
class fake_produce_stream : public grpc::ServerBidiReactor<v1::ProduceRequest, v1::ProduceResponse> {
 public:
  fake_produce_stream(fake_broker_state* state, int32_t self) : state_(state), self_(self) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(mu_);
      reads_done_ = true;
      maybe_finish();
      return;
    }
    v1::ProduceResponse response;
    const bool answer = state_->produce(request_, &response, self_);
    std::lock_guard lock(mu_);
    if (!answer) {  // the response is "lost": end the call without it
      reads_done_ = true;
      status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake broker dropped the response");
      maybe_finish();
      return;
    }
    if (request_.acks() != v1::ACKS_NONE && !state_->withhold_responses()) {
      queue_.push_back(std::move(response));
      if (!writing_) {
        writing_ = true;
        StartWrite(&queue_.front());
      }
    }
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    queue_.pop_front();
    if (ok && !queue_.empty()) {
      StartWrite(&queue_.front());
      return;
    }
    writing_ = false;
    maybe_finish();
  }

  void OnDone() override { delete this; }

 private:
  void maybe_finish() {
    if (reads_done_ && !writing_ && !finished_) {
      finished_ = true;
      Finish(status_);
    }
  }

  fake_broker_state* state_;
  const int32_t self_;
  v1::ProduceRequest request_;
  std::mutex mu_;
  std::deque<v1::ProduceResponse> queue_;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
  grpc::Status status_ = grpc::Status::OK;
};

// The FetchStream server side: a thread per stream polls the state and
// writes what is new (one write at a time), ends after an error message.
class fake_fetch_stream : public grpc::ServerWriteReactor<v1::FetchStreamResponse> {
 public:
  fake_fetch_stream(fake_broker_state* state, int32_t self, const v1::FetchStreamRequest& request)
      : state_(state), self_(self), request_(request) {
    thread_ = std::thread([this] { run(); });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    write_done_ = true;
    write_ok_ = ok;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void OnDone() override {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // run() touches nothing after Finish
    } else {
      thread_.join();
    }
    delete this;
  }

 private:
  void run() {
    int64_t offset = request_.offset();
    const topic_partition tp{request_.topic(), request_.partition()};
    for (;;) {
      message_.Clear();
      const bool last = state_->fetch_stream_chunk(self_, tp, offset, request_.max_bytes(), &message_);
      std::unique_lock lock(mu_);
      if (cancelled_) break;
      if (!last && message_.records().empty()) {
        cv_.wait_for(lock, std::chrono::milliseconds(5), [&] { return cancelled_; });
        continue;
      }
      write_done_ = false;
      lock.unlock();
      StartWrite(&message_);
      lock.lock();
      cv_.wait(lock, [&] { return write_done_; });  // comes, ok or not, also after a cancel
      if (!write_ok_ || last) break;
      offset = message_.next_offset();
    }
    Finish(grpc::Status::OK);
  }

  fake_broker_state* state_;
  const int32_t self_;
  const v1::FetchStreamRequest request_;
  v1::FetchStreamResponse message_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool write_done_ = false;
  bool write_ok_ = true;
  bool cancelled_ = false;
  std::thread thread_;
};

class fake_broker_service : public v1::Broker::CallbackService {
 public:
  fake_broker_service(fake_broker_state* state, int32_t self) : state_(state), self_(self) {}

  grpc::ServerUnaryReactor* Metadata(grpc::CallbackServerContext* c, const v1::MetadataRequest* q,
                                     v1::MetadataResponse* r) override {
    state_->metadata(*q, r);
    return done(c);
  }
  grpc::ServerUnaryReactor* InitProducerId(grpc::CallbackServerContext* c, const v1::InitProducerIdRequest* q,
                                           v1::InitProducerIdResponse* r) override {
    state_->init_producer_id(*q, r);
    return done(c);
  }
  grpc::ServerUnaryReactor* Produce(grpc::CallbackServerContext* c, const v1::ProduceRequest* q,
                                    v1::ProduceResponse* r) override {
    if (!state_->produce(*q, r, self_)) return done(c, grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped"));
    return done(c);
  }
  grpc::ServerBidiReactor<v1::ProduceRequest, v1::ProduceResponse>* ProduceStream(
      grpc::CallbackServerContext*) override {
    return new fake_produce_stream(state_, self_);
  }
  grpc::ServerWriteReactor<v1::FetchStreamResponse>* FetchStream(grpc::CallbackServerContext* c,
                                                                 const v1::FetchStreamRequest* q) override {
    if (!state_->fetch_stream_enabled()) {
      auto* reactor = new unimplemented_stream;
      reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "FetchStream disabled in this fake"));
      return reactor;
    }
    (void)c;
    return new fake_fetch_stream(state_, self_, *q);
  }
  grpc::ServerUnaryReactor* Fetch(grpc::CallbackServerContext* c, const v1::FetchRequest* q,
                                  v1::FetchResponse* r) override {
    state_->fetch(*q, r, self_);
    bool empty = true;
    for (const auto& t : r->topics()) {
      for (const auto& p : t.partitions()) empty &= p.records().empty() && p.error_code() == v1::NONE;
    }
    // A crude long-poll so an idle consumer does not spin; a test fake may
    // block its callback thread briefly.
    if (empty) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(q->max_wait_ms(), 20)));
    return done(c);
  }
  grpc::ServerUnaryReactor* ListOffsets(grpc::CallbackServerContext* c, const v1::ListOffsetsRequest* q,
                                        v1::ListOffsetsResponse* r) override {
    state_->list_offsets(*q, r, self_);
    return done(c);
  }

 private:
  struct unimplemented_stream : grpc::ServerWriteReactor<v1::FetchStreamResponse> {
    void OnDone() override { delete this; }
  };
  static grpc::ServerUnaryReactor* done(grpc::CallbackServerContext* c, grpc::Status s = grpc::Status::OK) {
    auto* reactor = c->DefaultReactor();
    reactor->Finish(s);
    return reactor;
  }
  fake_broker_state* state_;
  const int32_t self_;
};

// A running fake broker. port 0 = any free port; `id` its broker id.
class fake_broker {
 public:
  explicit fake_broker(std::shared_ptr<fake_broker_state> state, int port = 0, int32_t id = 1)
      : state_(std::move(state)), service_(state_.get(), id) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    KAPPA_ASSERT(server_ != nullptr && port_ > 0);
    state_->address = address();
    state_->register_broker(id, address());
  }
  ~fake_broker() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200)); }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::shared_ptr<fake_broker_state> state_;
  fake_broker_service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace kappa::test
