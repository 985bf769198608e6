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
    refresh_requested_ = false;
    ++refreshing_;
  }
  struct done_guard {
    metadata_cache* self;
    ~done_guard() {
      std::lock_guard lock(self->mu_);
      --self->refreshing_;
    }
  } guard{this};
  if (request.topics_size() == 0) return Status();  // empty would mean "all topics"
  Status last = client_error(client_errc::transport, "metadata: no broker address to ask");
  const auto addresses = any_brokers();
  const auto& config = pool_.config();
  for (const auto& address : addresses) {
    grpc::ClientContext context;
    // With one address, wait for the channel to connect (see admin.cc), but
    // only about a backoff period: background threads (the producer's
    // sender, the consumer's fetcher) call this and must stay responsive to
    // close(); they retry anyway. With several, fail fast on one that is
    // down (connection refused is immediate) and bound one that does not
    // answer by connect_timeout_ms, so a dead address cannot stall the rest.
    const bool wait = addresses.size() == 1;
    const int64_t timeout_ms =
        wait ? std::min(config.request_timeout_ms, std::max<int64_t>(1000, config.retry_backoff_max_ms))
             : std::min(config.request_timeout_ms, std::max<int64_t>(1, config.connect_timeout_ms));
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
      auto old = topics_.find(t.name());
      if (t.error_code() != v1::NONE) {
        // A broker that has not caught up with the controller may not know
        // a topic yet: keep what we knew, but route nothing until a later
        // answer confirms it.
        if (old != topics_.end()) {
          for (auto& p : old->second.partitions) p.stale = true;
        }
        continue;
      }
      topic_info info;
      info.fetched_ms = now;
      int32_t count = 0;
      for (const auto& p : t.partitions()) count = std::max(count, p.partition() + 1);
      info.partitions.resize(static_cast<size_t>(count));
      for (const auto& p : t.partitions()) {
        const auto i = static_cast<size_t>(p.partition());
        partition_info fresh{p.leader_id(), p.leader_epoch(), "", false};
        // A hint with a newer term than this broker knows of (it lags the
        // election): keep the hint until it fails.
        if (old != topics_.end() && i < old->second.partitions.size()) {
          const partition_info& known = old->second.partitions[i];
          if (!known.stale && known.leader_id >= 0 && known.leader_epoch > fresh.leader_epoch) fresh = known;
        }
        info.partitions[i] = std::move(fresh);
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
    bool known = false;
    {
      std::lock_guard lock(mu_);
      auto it = topics_.find(topic);
      known = it != topics_.end() && !it->second.partitions.empty();
      if (known) tracked_.insert(topic);
    }
    // The partition count is all a caller needs now; leaders that moved
    // are the background threads' business (maybe_refresh: rate-limited),
    // so send() does not wait for Metadata during a failover.
    if (known) return Status();
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

bool metadata_cache::maybe_refresh(const std::vector<std::string>& topics) {
  {
    std::lock_guard lock(mu_);
    bool wanted = refresh_requested_;
    for (const auto& t : topics) wanted |= tracked_.insert(t).second;
    for (const auto& t : tracked_) {
      auto it = topics_.find(t);
      if (it == topics_.end()) {
        wanted = true;
        continue;
      }
      // A partition without a leader (an election) is worth asking again.
      for (const auto& p : it->second.partitions) wanted |= p.stale || (p.leader_id < 0 && p.address.empty());
    }
    const int64_t now = now_ms();
    const int64_t age = now - last_refresh_ms_;
    const bool due = (wanted && age >= pool_.config().retry_backoff_min_ms) ||
                     (!tracked_.empty() && age >= pool_.config().metadata_max_age_ms);
    // One already on its way answers for this one too.
    if (!due || refreshing_ > 0) return false;
    // Claimed under the lock: threads that come together make one RPC.
    last_refresh_ms_ = now;
  }
  (void)refresh({});
  return true;
}

void metadata_cache::request_refresh() {
  std::lock_guard lock(mu_);
  refresh_requested_ = true;
}

std::optional<int32_t> metadata_cache::partition_count(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.partitions.empty()) return std::nullopt;
  return static_cast<int32_t>(it->second.partitions.size());
}

std::optional<std::string> metadata_cache::address_of_locked(const partition_info& p) const {
  if (p.stale) return std::nullopt;
  if (p.leader_id >= 0) {
    auto b = brokers_.find(p.leader_id);
    if (b != brokers_.end() && usable_address(b->second)) return b->second;
  }
  if (usable_address(p.address)) return p.address;
  if (p.leader_id < 0) return std::nullopt;
  // A leader without a usable address: on one node that is the broker that
  // answered the metadata request.
  if (!last_answered_.empty()) return last_answered_;
  return std::nullopt;
}

std::optional<std::string> metadata_cache::leader(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return std::nullopt;
  }
  return address_of_locked(it->second.partitions[static_cast<size_t>(partition)]);
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
  if (it == topics_.end()) return;
  for (auto& p : it->second.partitions) p.stale = true;
}

void metadata_cache::invalidate(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return;
  }
  it->second.partitions[static_cast<size_t>(partition)].stale = true;
}

bool metadata_cache::not_leader(const std::string& topic, int32_t partition, const std::string& from,
                                const v1::LeaderHint& hint) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return false;
  }
  partition_info& p = it->second.partitions[static_cast<size_t>(partition)];
  const bool newer = hint.leader_epoch() >= 0 && hint.leader_epoch() > p.leader_epoch;
  std::string address;
  if (usable_address(hint.leader_address())) {
    address = hint.leader_address();
  } else if (hint.leader_id() >= 0) {
    auto b = brokers_.find(hint.leader_id());
    if (b != brokers_.end() && usable_address(b->second)) address = b->second;
  }
  if (newer && !address.empty() && address != from) {
    p.leader_id = hint.leader_id();
    p.leader_epoch = hint.leader_epoch();
    p.address = address;
    p.stale = false;
    if (hint.leader_id() >= 0 && usable_address(hint.leader_address())) brokers_[hint.leader_id()] = address;
    return true;
  }
  // An old answer: an earlier hint already moved the partition elsewhere.
  const std::optional<std::string> current = address_of_locked(p);
  if (current && *current != from) return true;
  p.stale = true;
  return false;
}

}  // namespace kappa::client
