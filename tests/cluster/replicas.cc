#include "tests/cluster/replicas.h"

#include "proto/format/record_batch.h"
#include "storage/env.h"
#include "storage/log.h"
#include "tests/cluster/cluster.h"

namespace kappa_cluster {
namespace {

struct replica {
  int node = 0;
  int64_t start = 0;
  int64_t end = 0;  // offset after the last batch read (below the high watermark)
  std::vector<std::vector<uint8_t>> batches;
};

}  // namespace

std::vector<std::string> compare_replicas(const cluster& c, const std::string& topic,
                                          const std::map<int32_t, int64_t>& hw) {
  std::vector<std::string> out;
  auto& env = kappa::storage::posix_env();
  for (const auto& [partition, high_watermark] : hw) {
    const std::string name = topic + "-" + std::to_string(partition);
    std::vector<replica> replicas;
    for (int id = 1; id <= c.size(); ++id) {
      const std::string dir = c.data_dir(id) + "/" + name;
      if (!env.is_dir(dir)) continue;  // not a replica of this partition
      auto opened = kappa::storage::log::open(env, dir, kappa::storage::log_config{});
      const std::string who = name + " on broker " + std::to_string(id);
      if (!opened.ok()) {
        out.push_back(who + ": cannot open: " + opened.status().message());
        continue;
      }
      auto& l = *opened.value();
      if (!l.status().ok()) out.push_back(who + ": log left failed: " + l.status().message());
      replica r;
      r.node = id;
      r.start = l.log_start_offset();
      int32_t last_epoch = -1;
      bool epoch_reported = false;
      int64_t last_offset = -1;
      for (int64_t off = r.start; off < l.log_end_offset();) {
        auto view = l.read(off, 1 << 20);
        if (!view.ok() || view.value().batches.empty()) {
          out.push_back(who + ": read at " + std::to_string(off) + " failed: " +
                        (view.ok() ? "empty" : view.status().message()));
          break;
        }
        auto bytes = view.value().batches;
        for (size_t pos = 0; pos + kappa::format::kBatchHeaderBytes <= bytes.size();) {
          auto h = kappa::format::read_header(bytes.subspan(pos));
          if (h.partition_leader_epoch < last_epoch && !epoch_reported) {
            epoch_reported = true;  // once per replica: the rest follows from it
            out.push_back(who + ": leader epoch goes back from " + std::to_string(last_epoch) + " to " +
                          std::to_string(h.partition_leader_epoch) + " at offset " +
                          std::to_string(h.base_offset));
          }
          if (h.base_offset <= last_offset) {
            out.push_back(who + ": offset " + std::to_string(h.base_offset) + " after " +
                          std::to_string(last_offset));
          }
          last_epoch = std::max(last_epoch, h.partition_leader_epoch);
          last_offset = h.last_offset();
          if (h.base_offset < high_watermark) {
            r.batches.emplace_back(bytes.begin() + long(pos), bytes.begin() + long(pos + h.size_bytes()));
            r.end = h.last_offset() + 1;
          }
          pos += h.size_bytes();
        }
        off = view.value().next_offset;
      }
      (void)l.close();
      replicas.push_back(std::move(r));
    }
    if (replicas.empty()) {
      out.push_back(name + ": no replica on any broker");
      continue;
    }
    // The longest copy below the high watermark is the reference; all must match it.
    const replica* ref = &replicas[0];
    for (const auto& r : replicas) {
      if (r.batches.size() > ref->batches.size()) ref = &r;
    }
    if (ref->end < high_watermark) {
      out.push_back(name + ": no replica reaches the high watermark " + std::to_string(high_watermark) +
                    " (longest: broker " + std::to_string(ref->node) + " up to " + std::to_string(ref->end) + ")");
    }
    for (const auto& r : replicas) {
      if (&r == ref) continue;
      const std::string who = name + " on broker " + std::to_string(r.node);
      if (r.start != ref->start) {
        out.push_back(who + ": log start " + std::to_string(r.start) + " but broker " +
                      std::to_string(ref->node) + " starts at " + std::to_string(ref->start));
        continue;
      }
      if (r.end < high_watermark) {
        out.push_back(who + ": holds only up to " + std::to_string(r.end) + " of high watermark " +
                      std::to_string(high_watermark));
      }
      for (size_t i = 0; i < r.batches.size() && i < ref->batches.size(); ++i) {
        if (r.batches[i] != ref->batches[i]) {
          out.push_back(who + ": batch at offset " +
                        std::to_string(kappa::format::read_header(r.batches[i]).base_offset) +
                        " differs from broker " + std::to_string(ref->node) + "'s");
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace kappa_cluster
