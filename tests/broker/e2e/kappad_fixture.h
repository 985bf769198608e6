// Runs the built kappad as a real process on 127.0.0.1 with a fresh temp
// data dir, and talks to it through the generated gRPC stubs. Every wait is
// bounded; the destructor SIGKILLs a kappad still running and removes the
// temp dir.
#pragma once

#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ports.h"
#include "kappa/v1/admin.grpc.pb.h"
#include "kappa/v1/broker.grpc.pb.h"
#include "proto/format/records.h"

namespace kappa::e2e {

namespace v1 = ::kappa::v1;
using namespace std::chrono_literals;


// A channel that retries a connection within ~100 ms (gRPC's default first
// backoff is 1 s, growing: a kappad that opens its port a second after
// start was found only ~5 s later, and every restart in a test paid it).
inline std::shared_ptr<grpc::Channel> test_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

inline grpc::ClientContext* with_deadline(grpc::ClientContext& ctx, std::chrono::seconds s = 30s) {
  ctx.set_deadline(std::chrono::system_clock::now() + s);
  return &ctx;
}

class kappad {
 public:
  explicit kappad(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    char tmpl[] = "/tmp/kappa_e2e_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    base_ = tmpl;
    data_dir = base_ + "/data";
  }
  ~kappad() {
    if (pid_ > 0) stop(SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(base_, ec);
  }

  // Starts kappad (again, on the same data dir) and waits until it answers.
  void start() {
    REQUIRE(pid_ <= 0);
    port = kappa::test::unused_port();
    address = "127.0.0.1:" + std::to_string(port);
    std::vector<std::string> args{KAPPA_BINARY_DIR "/broker/kappad", "--listen", address,
                                  "--data-dir", data_dir, "--metrics-listen", "",
                                  "--log-level", "warn"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = spawn(args);
    channel = test_channel(address);
    broker = v1::Broker::NewStub(channel);
    admin = v1::Admin::NewStub(channel);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      v1::DescribeClusterResponse r;
      if (admin->DescribeCluster(&ctx, {}, &r).ok()) return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("kappad exited at start: " << log());
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL("kappad did not answer within 30 s: " << log());
  }

  // Sends `sig` and returns the exit status (bounded wait; SIGKILL after).
  int stop(int sig = SIGTERM) {
    REQUIRE(pid_ > 0);
    kill(pid_, sig);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        FAIL("kappad did not exit within 30 s of signal " << sig);
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    broker.reset();
    admin.reset();
    channel.reset();
    return status;
  }

  // Runs kappad with `args` to completion (bounded) and returns its status.
  int run_to_exit(std::vector<std::string> args) {
    args.insert(args.begin(), KAPPA_BINARY_DIR "/broker/kappad");
    pid_t p = spawn(args);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (waitpid(p, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p, SIGKILL);
        waitpid(p, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return status;
  }

  std::string log() const {
    std::ifstream f(base_ + "/kappad.log");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  std::string data_dir;
  std::string address;
  int port = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Broker::Stub> broker;
  std::unique_ptr<v1::Admin::Stub> admin;

 private:
  pid_t spawn(const std::vector<std::string>& args) {
    pid_t p = fork();
    REQUIRE(p >= 0);
    if (p == 0) {
      std::string logf = base_ + "/kappad.log";
      FILE* f = std::freopen(logf.c_str(), "a", stdout);
      (void)f;
      dup2(fileno(stdout), STDERR_FILENO);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return p;
  }

  std::vector<std::string> extra_;
  std::string base_;
  pid_t pid_ = -1;
};

// ---- helpers over the stubs ----

inline std::string make_batch(const std::vector<std::string>& values, int64_t producer_id = -1,
                              int16_t epoch = -1, int32_t sequence = -1) {
  format::batch_options o;
  o.producer_id = producer_id;
  o.producer_epoch = epoch;
  o.base_sequence = sequence;
  std::vector<format::record> rs;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& v : values) rs.push_back({std::nullopt, v, {}, now});
  auto b = format::build_batch(o, rs);
  REQUIRE(b.ok());
  return std::string(b->begin(), b->end());
}

inline void create_topic(kappad& k, const std::string& name, int partitions,
                         std::map<std::string, std::string> configs = {}) {
  grpc::ClientContext ctx;
  v1::CreateTopicsRequest req;
  auto* t = req.add_topics();
  t->set_name(name);
  t->set_partitions(partitions);
  for (auto& [a, b] : configs) (*t->mutable_configs())[a] = b;
  v1::CreateTopicsResponse resp;
  REQUIRE(k.admin->CreateTopics(with_deadline(ctx), req, &resp).ok());
  REQUIRE(resp.results_size() == 1);
  INFO(resp.results(0).error_message());
  REQUIRE(resp.results(0).error_code() == v1::NONE);
}

inline v1::ProduceRequest produce_req(const std::string& topic, int32_t partition,
                                      std::string records, v1::Acks acks = v1::ACKS_ALL) {
  v1::ProduceRequest req;
  req.set_acks(acks);
  auto* t = req.add_topics();
  t->set_topic(topic);
  auto* p = t->add_partitions();
  p->set_partition(partition);
  p->set_records(std::move(records));
  return req;
}

// One partition's answer to a unary Produce.
inline v1::PartitionProduceResponse produce(kappad& k, const std::string& topic, int32_t partition,
                                            std::string records, v1::Acks acks = v1::ACKS_ALL) {
  grpc::ClientContext ctx;
  v1::ProduceResponse resp;
  auto st = k.broker->Produce(with_deadline(ctx), produce_req(topic, partition, std::move(records), acks),
                              &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  REQUIRE(resp.topics_size() == 1);
  REQUIRE(resp.topics(0).partitions_size() == 1);
  return resp.topics(0).partitions(0);
}

inline v1::FetchPartitionResponse fetch(kappad& k, const std::string& topic, int32_t partition,
                                        int64_t offset, int32_t max_wait_ms = 0,
                                        int32_t min_bytes = 0) {
  grpc::ClientContext ctx;
  v1::FetchRequest req;
  req.set_max_wait_ms(max_wait_ms);
  req.set_min_bytes(min_bytes);
  auto* t = req.add_topics();
  t->set_topic(topic);
  auto* p = t->add_partitions();
  p->set_partition(partition);
  p->set_fetch_offset(offset);
  p->set_current_leader_epoch(-1);
  v1::FetchResponse resp;
  auto st = k.broker->Fetch(with_deadline(ctx), req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  REQUIRE(resp.topics_size() == 1);
  REQUIRE(resp.topics(0).partitions_size() == 1);
  return resp.topics(0).partitions(0);
}

struct fetched_record {
  int64_t offset;
  std::string value;
};

// What one fetched byte range holds. Control batches (the LEADER_CHANGE
// marker each new Raft leader term appends) are skipped, as a Kafka consumer
// skips transaction markers, but still advance next_offset: data offsets may
// have gaps.
struct decoded_batches {
  std::vector<fetched_record> records;  // data records at or after `from`
  int64_t next_offset = -1;             // one past the last batch; -1 if none
  int control_batches = 0;
};

inline decoded_batches decode_batches(const std::string& batches, int64_t from) {
  decoded_batches out;
  byte_view b = as_bytes(batches);
  int64_t prev_last = -1;
  while (b.size() >= format::kBatchHeaderBytes) {
    auto h = format::read_header(b);
    REQUIRE(h.size_bytes() <= b.size());
    // Batches come back in offset order, never overlapping.
    REQUIRE(h.base_offset > prev_last);
    prev_last = h.last_offset();
    byte_buffer scratch;
    auto rs = format::decode_records(b.first(h.size_bytes()), scratch);
    REQUIRE(rs.ok());  // control batches too: their CRC and framing must hold
    out.next_offset = h.last_offset() + 1;
    if (h.is_control()) {
      ++out.control_batches;
    } else {
      for (const auto& r : *rs) {
        if (r.offset >= from) out.records.push_back({r.offset, r.value ? std::string(as_chars(*r.value)) : ""});
      }
    }
    b = b.subspan(h.size_bytes());
  }
  REQUIRE(b.empty());  // no trailing partial batch
  return out;
}

// The data records of `batches` at or after `from` (control batches skipped).
inline std::vector<fetched_record> decode(const std::string& batches, int64_t from) {
  return decode_batches(batches, from).records;
}

// Every data record of a partition from `from` up to its high watermark
// (bounded number of fetches). Offsets strictly increase; gaps (control
// batches) are allowed.
inline std::vector<fetched_record> fetch_all(kappad& k, const std::string& topic, int32_t partition,
                                             int64_t from = 0) {
  std::vector<fetched_record> out;
  int64_t offset = from;
  for (int i = 0; i < 100000; ++i) {
    auto r = fetch(k, topic, partition, offset);
    REQUIRE(r.error_code() == v1::NONE);
    if (offset >= r.high_watermark()) break;
    auto d = decode_batches(r.records(), offset);
    INFO("fetch at " << offset << " below high watermark " << r.high_watermark());
    REQUIRE(d.next_offset > offset);  // below the high watermark a fetch returns something
    out.insert(out.end(), d.records.begin(), d.records.end());
    offset = d.next_offset;
  }
  for (size_t i = 1; i < out.size(); ++i) REQUIRE(out[i].offset > out[i - 1].offset);
  return out;
}

inline constexpr int64_t kEarliest = -2;
inline constexpr int64_t kLatest = -1;

// ListOffsets for one partition: kEarliest, kLatest (the high watermark), or
// a timestamp in ms.
inline v1::ListOffsetsPartitionResponse list_offset(kappad& k, const std::string& topic,
                                                    int32_t partition, int64_t timestamp) {
  grpc::ClientContext ctx;
  v1::ListOffsetsRequest req;
  auto* t = req.add_topics();
  t->set_topic(topic);
  auto* p = t->add_partitions();
  p->set_partition(partition);
  p->set_timestamp(timestamp);
  v1::ListOffsetsResponse resp;
  auto st = k.broker->ListOffsets(with_deadline(ctx), req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  REQUIRE(resp.topics_size() == 1);
  REQUIRE(resp.topics(0).partitions_size() == 1);
  return resp.topics(0).partitions(0);
}

inline int64_t latest_offset(kappad& k, const std::string& topic, int32_t partition) {
  auto r = list_offset(k, topic, partition, kLatest);
  REQUIRE(r.error_code() == v1::NONE);
  return r.offset();
}

// A created partition's first leader term starts asynchronously: until its
// control batch commits, the high watermark is 0 and a produce waits for the
// leader. Waits (bounded) for that and returns the high watermark.
inline int64_t wait_for_first_term(kappad& k, const std::string& topic, int32_t partition) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    const int64_t end = latest_offset(k, topic, partition);
    if (end > 0) return end;
    INFO(topic << "-" << partition << " high watermark still 0");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace kappa::e2e
