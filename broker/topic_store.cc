#include "broker/topic_store.h"

#include <map>
#include <mutex>

#include "broker/errc.h"
#include "broker/wire.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {
namespace {

constexpr uint16_t kTopicsVersion = 1;

class file_topic_store final : public topic_store {
 public:
  file_topic_store(storage::env& e, std::string path, std::vector<topic_info> topics)
      : env_(e), path_(std::move(path)) {
    for (auto& t : topics) topics_.emplace(t.name, std::move(t));
  }

  std::vector<topic_info> list() const override {
    std::lock_guard lk(mu_);
    std::vector<topic_info> out;
    out.reserve(topics_.size());
    for (const auto& [_, t] : topics_) out.push_back(t);
    return out;
  }

  std::optional<topic_info> get(const std::string& name) const override {
    std::lock_guard lk(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return std::nullopt;
    return it->second;
  }

  Status create(const topic_info& topic) override {
    std::lock_guard lk(mu_);
    if (topics_.contains(topic.name)) {
      return error(errc::topic_already_exists, "topic '" + topic.name + "' already exists");
    }
    auto next = topics_;
    next.emplace(topic.name, topic);
    return persist(std::move(next));
  }

  Status remove(const std::string& name) override {
    std::lock_guard lk(mu_);
    if (!topics_.contains(name)) return unknown(name);
    auto next = topics_;
    next.erase(name);
    return persist(std::move(next));
  }

  Status set_configs(const std::string& name, const topic_overrides& configs) override {
    std::lock_guard lk(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return unknown(name);
    auto next = topics_;
    next[name].configs = configs;
    return persist(std::move(next));
  }

 private:
  static Status unknown(const std::string& name) {
    return error(errc::unknown_topic_or_partition, "unknown topic '" + name + "'");
  }

  // Writes `next` durably, then makes it current: memory never runs ahead of
  // the disk. REQUIRES: mu_ held.
  Status persist(std::map<std::string, topic_info> next) {
    std::vector<topic_info> all;
    for (const auto& [_, t] : next) all.push_back(t);
    byte_buffer payload = encode_topics(all);
    if (payload.size() > storage::kMetadataPayloadBytesMax) {
      return error(errc::policy_violation, "topic metadata would exceed " +
                                               std::to_string(storage::kMetadataPayloadBytesMax) +
                                               " bytes; delete topics or shorten configs");
    }
    KAPPA_RETURN_IF_ERROR(storage::write_metadata_file(env_, path_, kTopicsVersion, payload));
    topics_ = std::move(next);
    return Status();
  }

  storage::env& env_;
  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, topic_info> topics_;
};

}  // namespace

byte_buffer encode_topics(const std::vector<topic_info>& topics) {
  wire_writer w;
  w.u32(uint32_t(topics.size()));
  for (const auto& t : topics) {
    w.str(t.name);
    w.u32(uint32_t(t.partitions));
    w.u32(uint32_t(t.replication_factor));
    w.u32(uint32_t(t.configs.size()));
    for (const auto& [k, v] : t.configs) {
      w.str(k);
      w.str(v);
    }
  }
  return w.take();
}

Result<std::vector<topic_info>> decode_topics(byte_view payload) {
  auto bad = [](const std::string& why) {
    return storage::error(storage::errc::bad_checkpoint, "topic metadata: " + why);
  };
  wire_reader r(payload);
  const uint32_t n = r.u32();
  // Every topic takes at least 16 bytes: a count beyond that is damage.
  if (!r.ok() || n > payload.size() / 16) return bad("bad topic count");
  std::vector<topic_info> out;
  for (uint32_t i = 0; i < n; ++i) {
    topic_info t;
    t.name = r.str();
    t.partitions = int32_t(r.u32());
    t.replication_factor = int32_t(r.u32());
    const uint32_t nc = r.u32();
    if (!r.ok() || nc > payload.size()) return bad("truncated topic entry");
    for (uint32_t j = 0; j < nc && r.ok(); ++j) {
      std::string k = r.str();
      t.configs[k] = r.str();
    }
    if (!r.ok()) return bad("truncated topic configs");
    if (t.partitions <= 0) return bad("topic '" + t.name + "' has no partitions");
    out.push_back(std::move(t));
  }
  if (!r.at_end()) return bad("trailing bytes");
  return out;
}

Result<std::unique_ptr<topic_store>> open_file_topic_store(storage::env& e, std::string path) {
  std::vector<topic_info> topics;
  auto contents = storage::read_metadata_file(e, path);
  if (contents.ok()) {
    if (contents->version != kTopicsVersion) {
      return storage::error(storage::errc::bad_checkpoint,
                            path + ": unsupported topic metadata version " +
                                std::to_string(contents->version));
    }
    auto decoded = decode_topics(contents->payload);
    if (!decoded.ok()) return Status(decoded.status().code(), path + ": " + decoded.status().message());
    topics = std::move(decoded).value();
  } else if (contents.status().code() != storage::errc::not_found) {
    return contents.status();
  }
  return std::unique_ptr<topic_store>(new file_topic_store(e, std::move(path), std::move(topics)));
}

}  // namespace kappa::broker
