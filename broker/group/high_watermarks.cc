#include "broker/group/high_watermarks.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "broker/clock.h"
#include "broker/partition.h"
#include "broker/partition_manager.h"
#include "kappa/v1/broker.grpc.pb.h"

namespace kappa::broker::group {
struct high_watermarks::impl {
  explicit impl(partition_manager& p) : pm(p) {}
  partition_manager& pm;
  std::mutex mu;
  struct cached {
    log_range range;
    int64_t at_ms = 0;
  };
  std::map<topic_partition, cached> cache;
  std::map<std::string, std::shared_ptr<v1::Broker::Stub>> stubs;  // by client address

  std::shared_ptr<v1::Broker::Stub> stub(const std::string& address) {
    std::lock_guard lk(mu);
    auto& s = stubs[address];
    if (!s) {
      s = v1::Broker::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    }
    return s;
  }
};

high_watermarks::high_watermarks(partition_manager& pm) : impl_(std::make_unique<impl>(pm)) {}
high_watermarks::~high_watermarks() = default;

std::map<topic_partition, log_range> high_watermarks::lookup(
    const std::vector<topic_partition>& partitions) {
  std::map<topic_partition, log_range> out;
  std::map<std::string, std::vector<topic_partition>> ask;  // leader address -> partitions
  const int64_t now = steady_ms();
  for (const auto& tp : partitions) {
    if (out.count(tp)) continue;
    out[tp] = log_range{};
    if (auto p = impl_->pm.get(tp.first, tp.second); p && p->is_leader()) {
      out[tp] = log_range{p->log_start_offset(), p->high_watermark()};
      continue;
    }
    {
      std::lock_guard lk(impl_->mu);
      auto it = impl_->cache.find(tp);
      if (it != impl_->cache.end() && now - it->second.at_ms < kCacheMs) {
        out[tp] = it->second.range;
        continue;
      }
    }
    const auto hint = impl_->pm.leader_of(tp.first, tp.second);
    if (hint.id < 0 || hint.id == impl_->pm.self() || hint.address.empty()) continue;
    ask[hint.address].push_back(tp);
  }
  for (const auto& [address, tps] : ask) {
    v1::ListOffsetsRequest req;
    std::map<std::string, v1::ListOffsetsTopic*> topics;
    for (const auto& [t, p] : tps) {
      auto*& lt = topics[t];
      if (!lt) {
        lt = req.add_topics();
        lt->set_topic(t);
      }
      // The answers come in request order: latest, then earliest.
      auto* latest = lt->add_partitions();
      latest->set_partition(p);
      latest->set_timestamp(-1);
      auto* earliest = lt->add_partitions();
      earliest->set_partition(p);
      earliest->set_timestamp(-2);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kAskTimeoutMs));
    v1::ListOffsetsResponse resp;
    if (!impl_->stub(address)->ListOffsets(&ctx, req, &resp).ok()) continue;
    std::lock_guard lk(impl_->mu);
    for (const auto& t : resp.topics()) {
      for (int k = 0; k + 1 < t.partitions_size(); k += 2) {
        const auto& latest = t.partitions(k);
        const auto& earliest = t.partitions(k + 1);
        if (latest.error_code() != v1::NONE || earliest.partition() != latest.partition()) continue;
        const topic_partition tp{t.topic(), latest.partition()};
        const log_range r{earliest.error_code() == v1::NONE ? earliest.offset() : -1,
                          latest.offset()};
        out[tp] = r;
        impl_->cache[tp] = {r, now};
      }
    }
  }
  return out;
}

}  // namespace kappa::broker::group
