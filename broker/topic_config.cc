#include "broker/topic_config.h"

#include <charconv>
#include <functional>

#include "broker/errc.h"

namespace kappa::broker {
namespace {

struct config_def {
  const char* name;
  int64_t min;
  int64_t max;
  const char* doc;
  // Reads the value from / writes it to a log_config.
  std::function<int64_t(const storage::log_config&)> get;
  std::function<void(storage::log_config&, int64_t)> set;
};

const std::vector<config_def>& int_defs() {
  using lc = storage::log_config;
  static const std::vector<config_def> defs{
      {"flush.ms", 1, int64_t{1} << 40, "fsync period under flush.policy=interval",
       [](const lc& c) { return c.flush_interval_ms; },
       [](lc& c, int64_t v) { c.flush_interval_ms = v; }},
      {"max.message.bytes", 64, int64_t{1} << 30, "largest record batch accepted",
       [](const lc& c) { return int64_t(c.max_batch_bytes); },
       [](lc& c, int64_t v) { c.max_batch_bytes = size_t(v); }},
      {"retention.bytes", -1, INT64_MAX, "delete old segments past this partition size (-1 = none)",
       [](const lc& c) { return c.retention_bytes; },
       [](lc& c, int64_t v) { c.retention_bytes = v; }},
      {"retention.ms", -1, INT64_MAX, "delete segments older than this (-1 = keep forever)",
       [](const lc& c) { return c.retention_ms; },
       [](lc& c, int64_t v) { c.retention_ms = v; }},
      {"segment.bytes", int64_t{1} << 14, int64_t{1} << 32, "roll the active segment past this size",
       [](const lc& c) { return int64_t(c.segment_bytes); },
       [](lc& c, int64_t v) { c.segment_bytes = uint64_t(v); }},
      {"segment.ms", 1, INT64_MAX, "roll an active segment older than this",
       [](const lc& c) { return c.segment_ms; },
       [](lc& c, int64_t v) { c.segment_ms = v; }},
  };
  return defs;
}

constexpr const char* kFlushPolicy = "flush.policy";
constexpr const char* kFlushPolicyDoc =
    "always: fsync before acknowledging (group-committed); interval: every flush.ms";

const config_def* find_int(const std::string& name) {
  for (const auto& d : int_defs()) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

bool parse_int(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

Status validate_topic_configs(const topic_overrides& configs) {
  for (const auto& [name, value] : configs) {
    if (name == kFlushPolicy) {
      if (value != "always" && value != "interval") {
        return error(errc::invalid_config,
                     "flush.policy must be 'always' or 'interval', got '" + value + "'");
      }
      continue;
    }
    const config_def* d = find_int(name);
    if (d == nullptr) {
      std::string known;
      for (const auto& k : int_defs()) known += std::string(k.name) + ", ";
      return error(errc::invalid_config, "unknown topic config '" + name + "' (known: " + known +
                                             kFlushPolicy + ")");
    }
    int64_t v = 0;
    if (!parse_int(value, v) || v < d->min || v > d->max) {
      return error(errc::invalid_config, std::string(d->name) + " must be an integer in [" +
                                             std::to_string(d->min) + ", " +
                                             std::to_string(d->max) + "], got '" + value + "'");
    }
  }
  return Status();
}

storage::log_config effective_log_config(const storage::log_config& defaults,
                                         const topic_overrides& overrides) {
  storage::log_config c = defaults;
  for (const auto& [name, value] : overrides) {
    if (name == kFlushPolicy) {
      c.flush = value == "interval" ? storage::flush_policy::interval : storage::flush_policy::always;
      continue;
    }
    const config_def* d = find_int(name);
    int64_t v = 0;
    KAPPA_ASSERT(d != nullptr && parse_int(value, v));
    d->set(c, v);
  }
  return c;
}

std::vector<config_entry> describe_topic_configs(const storage::log_config& defaults,
                                                 const topic_overrides& overrides) {
  const storage::log_config eff = effective_log_config(defaults, overrides);
  std::vector<config_entry> out;
  for (const auto& d : int_defs()) {
    out.push_back({d.name, std::to_string(d.get(eff)), !overrides.contains(d.name), d.doc});
    if (std::string(d.name) == "flush.ms") {  // keep name order: flush.ms < flush.policy
      out.push_back({kFlushPolicy,
                     eff.flush == storage::flush_policy::always ? "always" : "interval",
                     !overrides.contains(kFlushPolicy), kFlushPolicyDoc});
    }
  }
  return out;
}

}  // namespace kappa::broker
