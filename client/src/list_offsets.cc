#include "client/src/list_offsets.h"

#include <chrono>
#include <map>
#include <thread>

#include "client/src/backoff.h"

namespace kappa::client {

Result<std::vector<listed_offset>> list_offsets(connection_pool& pool, metadata_cache& metadata,
                                                const std::vector<std::pair<topic_partition, int64_t>>& specs) {
  const client_config& config = pool.config();
  const int64_t deadline = now_ms() + config.request_timeout_ms;
  std::vector<listed_offset> out(specs.size());
  std::vector<bool> settled(specs.size(), false);
  for (size_t i = 0; i < specs.size(); ++i) out[i].tp = specs[i].first;
  for (int attempt = 1;; ++attempt) {
    // Group what is still open by leader.
    std::map<std::string, std::vector<size_t>> by_leader;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (settled[i]) continue;
      const topic_partition& tp = specs[i].first;
      if (Status st = metadata.ensure(tp.topic, deadline); !st.ok()) {
        out[i].status = st;
        settled[i] = true;
        continue;
      }
      const auto count = metadata.partition_count(tp.topic);
      if (count && (tp.partition < 0 || tp.partition >= *count)) {
        out[i].status = client_error(client_errc::unknown_topic_or_partition,
                                     "list_offsets: " + tp.topic + " has no partition " + std::to_string(tp.partition));
        settled[i] = true;
        continue;
      }
      auto leader = metadata.leader(tp.topic, tp.partition);
      if (!leader) {
        out[i].status = client_error(client_errc::leader_not_available,
                                     "list_offsets: no leader known for " + tp.topic + "-" + std::to_string(tp.partition));
        metadata.invalidate(tp.topic, tp.partition);
        continue;
      }
      by_leader[*leader].push_back(i);
    }
    for (auto& [address, indexes] : by_leader) {
      v1::ListOffsetsRequest request;
      for (size_t i : indexes) {
        auto* t = request.add_topics();
        t->set_topic(specs[i].first.topic);
        auto* p = t->add_partitions();
        p->set_partition(specs[i].first.partition);
        p->set_timestamp(specs[i].second);
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config.request_timeout_ms));
      v1::ListOffsetsResponse response;
      grpc::Status status = pool.broker(address)->ListOffsets(&context, request, &response);
      for (size_t k = 0; k < indexes.size(); ++k) {
        const size_t i = indexes[k];
        const topic_partition& tp = specs[i].first;
        if (!status.ok()) {
          out[i].status = from_grpc(status, "list_offsets at " + address);
          metadata.invalidate(tp.topic, tp.partition);
          continue;
        }
        const v1::ListOffsetsPartitionResponse* answer = nullptr;
        // One topic entry was sent per spec, so the same partition may be
        // asked twice (earliest and latest): match by position first.
        if (response.topics_size() == request.topics_size() && response.topics(static_cast<int>(k)).topic() == tp.topic &&
            response.topics(static_cast<int>(k)).partitions_size() == 1 &&
            response.topics(static_cast<int>(k)).partitions(0).partition() == tp.partition) {
          answer = &response.topics(static_cast<int>(k)).partitions(0);
        }
        for (const auto& t : response.topics()) {
          if (answer != nullptr) break;
          if (t.topic() != tp.topic) continue;
          for (const auto& p : t.partitions()) {
            if (p.partition() == tp.partition) answer = &p;
          }
        }
        if (answer == nullptr) {
          out[i].status = client_error(client_errc::invalid_request, "list_offsets: partition missing from response");
          settled[i] = true;
          continue;
        }
        out[i].status = from_code(answer->error_code(), answer->error_message(),
                                  "list_offsets " + tp.topic + "-" + std::to_string(tp.partition));
        out[i].offset = answer->offset();
        out[i].timestamp_ms = answer->timestamp();
        out[i].leader_epoch = answer->leader_epoch();
        if (out[i].status.ok() || !is_retriable(out[i].status.code())) {
          settled[i] = true;
        } else {
          // ListOffsets answers carry no leader hint: ask the cluster.
          metadata.invalidate(tp.topic, tp.partition);
        }
      }
    }
    bool all = true;
    for (bool s : settled) all &= s;
    if (all) return out;
    const int64_t wait = backoff_ms(config, attempt);
    if (now_ms() + wait >= deadline) return out;  // the unsettled keep their last error
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    metadata.maybe_refresh();
  }
}

}  // namespace kappa::client
