#include "client/src/metadata_cache.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "client/src/backoff.h"

namespace kappa::client {
namespace {

bool usable_address(const std::string& address) {
  return !address.empty() && address.rfind("0.0.0.0:", 0) != 0 && address.rfind("[::]:", 0) != 0;
}

}  // namespace

std::vector<std::string> metadata_cache::any_brokers() const {
  std::vector<std::string> out;
  {
    std::lock_guard lock(mu_);
    if (!last_answered_.empty()) out.push_back(last_answered_);
    for (const auto& [id, address] : brokers_) {
      if (usable_address(address)) out.push_back(address);
    }
  }
  for (const auto& address : pool_.bootstrap()) out.push_back(address);
  std::vector<std::string> unique;
  for (auto& a : out) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  return unique;
}

Status metadata_cache::refresh(const std::vector<std::string>& topics) {
  v1::MetadataRequest request;
  {
    std::lock_guard lock(mu_);
    for (const auto& t : topics) tracked_.insert(t);
    for (const auto& t : tracked_) request.add_topics(t);
    last_refresh_ms_ = now_ms();
  }
  if (request.topics_size() == 0) return Status();  // empty would mean "all topics"
  Status last = client_error(client_errc::transport, "metadata: no broker address to ask");
  const auto addresses = any_brokers();
  for (const auto& address : addresses) {
    grpc::ClientContext context;
    // With one address, wait for the channel to connect (see admin.cc), but
    // only about a backoff period: background threads (the producer's
    // sender, the consumer's fetcher) call this and must stay responsive to
    // close(); they retry anyway.
    const bool wait = addresses.size() == 1;
    const auto& config = pool_.config();
    const int64_t timeout_ms =
        wait ? std::min(config.request_timeout_ms, std::max<int64_t>(1000, config.retry_backoff_max_ms))
             : config.request_timeout_ms;
    context.set_wait_for_ready(wait);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    v1::MetadataResponse response;
    grpc::Status status = pool_.broker(address)->Metadata(&context, request, &response);
    if (!status.ok()) {
      last = from_grpc(status, "metadata from " + address);
      continue;
    }
    std::lock_guard lock(mu_);
    last_answered_ = address;
    for (const auto& b : response.brokers()) brokers_[b.id()] = b.address();
    const int64_t now = now_ms();
    for (const auto& t : response.topics()) {
      if (t.error_code() != v1::NONE) {
        topics_.erase(t.name());
        continue;
      }
      topic_info info;
      info.fetched_ms = now;
      int32_t count = 0;
      for (const auto& p : t.partitions()) count = std::max(count, p.partition() + 1);
      info.partitions.resize(static_cast<size_t>(count));
      for (const auto& p : t.partitions()) {
        info.partitions[static_cast<size_t>(p.partition())] = {p.leader_id(), p.leader_epoch()};
      }
      topics_[t.name()] = std::move(info);
    }
    return Status();
  }
  return last;
}

Status metadata_cache::ensure(const std::string& topic, int64_t deadline_ms) {
  const auto& config = pool_.config();
  Status last;
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mu_);
      auto it = topics_.find(topic);
      if (it != topics_.end() && !it->second.stale && !it->second.partitions.empty() &&
          now_ms() - it->second.fetched_ms < config.metadata_max_age_ms) {
        return Status();
      }
    }
    last = refresh({topic});
    if (last.ok()) {
      std::lock_guard lock(mu_);
      auto it = topics_.find(topic);
      if (it != topics_.end() && !it->second.partitions.empty()) return Status();
      last = client_error(client_errc::unknown_topic_or_partition,
                          "topic '" + topic + "' is not in the cluster's metadata");
    }
    const int64_t wait = backoff_ms(config, attempt);
    if (now_ms() + wait >= deadline_ms) {
      return client_error(last.code() == make_error_code(client_errc::unknown_topic_or_partition)
                              ? client_errc::unknown_topic_or_partition
                              : client_errc::timeout,
                          "waiting for metadata of '" + topic + "': " + last.message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
}

void metadata_cache::maybe_refresh() {
  {
    std::lock_guard lock(mu_);
    bool any_stale = false;
    for (const auto& t : tracked_) {
      auto it = topics_.find(t);
      if (it == topics_.end() || it->second.stale) any_stale = true;
      // A partition without a leader (an election) is worth asking again.
      if (it != topics_.end()) {
        for (const auto& p : it->second.partitions) any_stale |= p.leader_id < 0;
      }
    }
    if (!any_stale || now_ms() - last_refresh_ms_ < pool_.config().retry_backoff_min_ms) return;
  }
  (void)refresh({});
}

std::optional<int32_t> metadata_cache::partition_count(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.partitions.empty()) return std::nullopt;
  return static_cast<int32_t>(it->second.partitions.size());
}

std::optional<std::string> metadata_cache::leader(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.stale || partition < 0 ||
      static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return std::nullopt;
  }
  const int32_t id = it->second.partitions[static_cast<size_t>(partition)].leader_id;
  if (id < 0) return std::nullopt;
  auto b = brokers_.find(id);
  if (b != brokers_.end() && usable_address(b->second)) return b->second;
  // A leader without a usable address: on one node that is the broker that
  // answered the metadata request.
  if (!last_answered_.empty()) return last_answered_;
  return std::nullopt;
}

int32_t metadata_cache::leader_epoch(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return -1;
  }
  return it->second.partitions[static_cast<size_t>(partition)].leader_epoch;
}

void metadata_cache::invalidate(const std::string& topic) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) it->second.stale = true;
}

}  // namespace kappa::client
