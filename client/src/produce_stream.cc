#include "client/src/produce_stream.h"

namespace kappa::client {

produce_stream::produce_stream(uint64_t id, std::string address, v1::Broker::Stub* stub,
                               response_fn on_response, broken_fn on_broken)
    : id_(id), address_(std::move(address)), on_response_(std::move(on_response)),
      on_broken_(std::move(on_broken)) {
  stream_ = stub->ProduceStream(&context_);
  reader_ = std::thread([this] { read_loop(); });
}

produce_stream::~produce_stream() {
  context_.TryCancel();
  reader_.join();
  // Only now, with no read or write outstanding, may Finish be called.
  (void)stream_->Finish();
}

bool produce_stream::write(const v1::ProduceRequest& request) {
  if (broken_.load()) return false;
  if (stream_->Write(request)) return true;
  context_.TryCancel();  // wakes the reader, which reports the break
  return false;
}

void produce_stream::read_loop() {
  v1::ProduceResponse response;
  while (stream_->Read(&response)) {
    on_response_(id_, response);
    response.Clear();
  }
  broken_.store(true);
  on_broken_(id_, "produce stream to " + address_ + " ended");
}

}  // namespace kappa::client
