#include "tools/kappa_bench/grpc_baseline.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <future>
#include <string>
#include <vector>

namespace kappa::bench {
namespace {

constexpr const char* kUpload = "/kappa.bench.Null/Upload";
constexpr const char* kDownload = "/kappa.bench.Null/Download";
constexpr size_t kMaxMessageBytes = size_t{4} << 20;
constexpr auto kDeadline = std::chrono::minutes(30);  // bounds a stuck run

Status failed(const std::string& what) {
  return Status(std::make_error_code(std::errc::io_error), what);
}

// One message's payload, shared by every write (a ByteBuffer copy is a
// reference, so no per-message allocation or memcpy is measured).
grpc::ByteBuffer payload(size_t bytes) {
  std::string data(bytes, 'x');
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

// Null sink: reads until the client is done.
class sink_reactor : public grpc::ServerGenericBidiReactor {
 public:
  sink_reactor() { StartRead(&in_); }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    in_.Clear();
    StartRead(&in_);
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer in_;
};

// Null source: writes the count of messages the client asked for in its
// metadata.
class source_reactor : public grpc::ServerGenericBidiReactor {
 public:
  source_reactor(uint64_t count, size_t bytes) : left_(count), out_(payload(bytes)) { next(); }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    next();
  }
  void OnDone() override { delete this; }

 private:
  void next() {
    if (left_ == 0) return Finish(grpc::Status::OK);
    --left_;
    StartWrite(&out_);
  }
  uint64_t left_;
  grpc::ByteBuffer out_;
};

uint64_t metadata_number(grpc::GenericCallbackServerContext* ctx, const char* key) {
  auto it = ctx->client_metadata().find(key);
  if (it == ctx->client_metadata().end()) return 0;
  return std::stoull(std::string(it->second.data(), it->second.size()));
}

class null_service : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    if (ctx->method() == kUpload) return new sink_reactor();
    if (ctx->method() == kDownload) {
      return new source_reactor(metadata_number(ctx, "count"), metadata_number(ctx, "bytes"));
    }
    return grpc::CallbackGenericService::CreateReactor(ctx);
  }
};

class upload_client : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  upload_client(grpc::GenericStub& stub, uint64_t count, size_t bytes)
      : left_(count), out_(payload(bytes)) {
    ctx_.set_deadline(std::chrono::system_clock::now() + kDeadline);
    stub.PrepareBidiStreamingCall(&ctx_, kUpload, grpc::StubOptions(), this);
    next();
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) next();  // on failure OnDone reports the status
  }
  void OnDone(const grpc::Status& s) override { done_.set_value(s); }
  grpc::Status wait() { return done_.get_future().get(); }

 private:
  void next() {
    if (left_ == 0) return StartWritesDone();
    --left_;
    StartWrite(&out_);
  }
  grpc::ClientContext ctx_;
  uint64_t left_;
  grpc::ByteBuffer out_;
  std::promise<grpc::Status> done_;
};

class download_client : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  download_client(grpc::GenericStub& stub, uint64_t count, size_t bytes) {
    ctx_.set_deadline(std::chrono::system_clock::now() + kDeadline);
    ctx_.AddMetadata("count", std::to_string(count));
    ctx_.AddMetadata("bytes", std::to_string(bytes));
    stub.PrepareBidiStreamingCall(&ctx_, kDownload, grpc::StubOptions(), this);
    StartRead(&in_);
    StartWritesDone();
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    received_bytes += in_.Length();
    in_.Clear();
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& s) override { done_.set_value(s); }
  grpc::Status wait() { return done_.get_future().get(); }
  uint64_t received_bytes = 0;

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer in_;
  std::promise<grpc::Status> done_;
};

template <typename Client>
Result<throughput> run(size_t message_bytes, uint64_t count, int streams) {
  if (message_bytes == 0 || message_bytes > kMaxMessageBytes || count == 0 || streams < 1) {
    return failed("baseline needs 0 < message bytes <= 4 MiB and at least one message");
  }
  null_service service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return failed("cannot start the baseline gRPC server on 127.0.0.1:0");
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // own connection, as a client process has
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                           grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  stopwatch clock;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < streams; ++i) {
    uint64_t n = count / streams + (uint64_t(i) < count % streams ? 1 : 0);
    clients.push_back(std::make_unique<Client>(stub, n, message_bytes));
  }
  Status result;
  for (auto& c : clients) {
    grpc::Status s = c->wait();
    if (!s.ok() && result.ok()) result = failed("baseline stream failed: " + s.error_message());
  }
  throughput t{count * message_bytes, clock.seconds()};
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!result.ok()) return result;
  return t;
}

}  // namespace

Result<throughput> grpc_upload_baseline(size_t message_bytes, uint64_t count, int streams) {
  return run<upload_client>(message_bytes, count, streams);
}

Result<throughput> grpc_download_baseline(size_t message_bytes, uint64_t count, int streams) {
  return run<download_client>(message_bytes, count, streams);
}

}  // namespace kappa::bench
