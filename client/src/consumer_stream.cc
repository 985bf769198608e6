// The consumer's FetchStreams: one per fetched partition, tailing it from
// its fetch offset. Brokers without FetchStream (UNIMPLEMENTED) are fetched
// with unary Fetch instead (consumer_fetcher.cc).
#include "client/src/backoff.h"
#include "client/src/consumer_impl.h"
#include "client/src/fetch_decode.h"

namespace kappa {

using client::now_ms;
namespace v1 = client::v1;

namespace {

void start_finish(consumer::impl::fetch_stream* st) {
  KAPPA_ASSERT(st->pending == consumer::impl::fetch_stream::op::none);
  st->pending = consumer::impl::fetch_stream::op::finish;
  st->reader->Finish(&st->status, st);
}

}  // namespace

bool consumer::impl::has_room(const partition_state& s) const {
  // About two chunks per partition: one being polled, one arriving.
  return s.buffered_bytes < 2 * static_cast<size_t>(config_.partition_max_bytes) &&
         buffered_total_ < config_.prefetch_bytes;
}

void consumer::impl::open_stream(const topic_partition& tp, partition_state& s,
                                 const std::string& address) {
  KAPPA_ASSERT(s.stream == nullptr && s.fetch_offset >= 0);
  auto* st = new fetch_stream;
  st->tp = tp;
  st->address = address;
  st->epoch = s.epoch;
  v1::FetchStreamRequest request;
  request.set_topic(tp.topic);
  request.set_partition(tp.partition);
  request.set_offset(s.fetch_offset);
  request.set_max_bytes(config_.partition_max_bytes);
  st->reader = pool_.broker(address)->PrepareAsyncFetchStream(&st->context, request, &cq_);
  st->pending = fetch_stream::op::start;
  st->reader->StartCall(st);
  streams_.insert(st);
  s.stream = st;
}

void consumer::impl::detach_stream(partition_state& s) {
  fetch_stream* st = s.stream;
  if (st == nullptr) return;
  s.stream = nullptr;
  st->detached = true;
  st->context.TryCancel();
  if (st->pending == fetch_stream::op::none) start_finish(st);
}

void consumer::impl::continue_stream(fetch_stream* st) {
  if (st->pending != fetch_stream::op::none) return;
  auto it = parts_.find(st->tp);
  if (st->detached || closed_ || it == parts_.end() || it->second.stream != st ||
      it->second.epoch != st->epoch) {
    // The partition must not keep pointing at a stream about to be deleted
    // (closing, or an epoch that moved on without a detach).
    if (it != parts_.end() && it->second.stream == st) it->second.stream = nullptr;
    st->detached = true;
    // Finish on a live tail waits for the broker to end it, which it never
    // does on its own: cancel first so the status comes back at once.
    st->context.TryCancel();
    start_finish(st);
    return;
  }
  const partition_state& s = it->second;
  if (s.paused || s.blocked || s.error || !has_room(s)) return;  // idle until there is room
  st->pending = fetch_stream::op::read;
  st->reader->Read(&st->message, st);
}

void consumer::impl::on_stream_event(fetch_stream* st, bool ok) {
  const fetch_stream::op done = st->pending;
  st->pending = fetch_stream::op::none;
  if (done == fetch_stream::op::finish) {
    streams_.erase(st);
    auto it = parts_.find(st->tp);
    if (it != parts_.end() && it->second.stream == st && st->detached) it->second.stream = nullptr;
    if (!st->detached && it != parts_.end() && it->second.stream == st) {
      partition_state& s = it->second;
      s.stream = nullptr;
      if (st->status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        no_stream_.insert(st->address);  // an older broker: unary Fetch from now on
      } else {
        // The stream ended without an error message (transport failure,
        // broker shutdown, leadership lost): reopen after a backoff, from
        // fetch_offset, at whichever broker leads by then.
        retry_partition(st->tp, s, v1::UNKNOWN_SERVER_ERROR, st->address, nullptr);
      }
    }
    delete st;
    return;
  }
  if (!ok) {  // the call failed to start, or the stream ended: collect its status
    start_finish(st);
    return;
  }
  if (done == fetch_stream::op::read) {
    auto it = parts_.find(st->tp);
    if (!st->detached && it != parts_.end() && it->second.stream == st) {
      partition_state& s = it->second;
      v1::FetchStreamResponse& m = st->message;
      if (m.error_code() == v1::NONE) {
        // Take the bytes; the next read parses into a spare buffer if there
        // is one (parsing keeps a string's capacity).
        std::string bytes;
        bytes.swap(*m.mutable_records());
        if (!spare_chunks_.empty()) {
          m.mutable_records()->swap(spare_chunks_.back());
          spare_chunks_.pop_back();
        }
        take_fetched(s, std::move(bytes));
      } else if (m.error_code() == v1::OFFSET_OUT_OF_RANGE &&
                 transient_out_of_range(st->tp, s, m.valid_range(), st->address)) {
        detach_stream(s);
      } else if (m.error_code() == v1::OFFSET_OUT_OF_RANGE &&
                 config_.auto_offset_reset != offset_reset::none) {
        set_reset(s);  // detaches this stream
      } else {
        Status err =
            client::from_code(m.error_code(), m.error_message(),
                              "fetch " + st->tp.topic + "-" + std::to_string(st->tp.partition));
        if (is_retriable(err.code())) {
          retry_partition(st->tp, s, m.error_code(), st->address, &m.current_leader());
        } else {
          s.error = std::move(err);
        }
        detach_stream(s);
      }
      data_cv_.notify_all();
    }
  }
  continue_stream(st);
}

}  // namespace kappa
