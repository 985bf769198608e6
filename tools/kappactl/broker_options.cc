#include "tools/kappactl/broker_options.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "tools/kappactl/exit_codes.h"

namespace kappa::kappactl {
namespace {

constexpr const char* kDefaultBootstrap = "127.0.0.1:9092";

std::string default_bootstrap() {
  const char* env = std::getenv("KAPPA_BOOTSTRAP");
  return env && *env ? env : kDefaultBootstrap;
}

Status invalid(std::string message) {
  return client_error(client_errc::invalid_argument, std::move(message));
}

// Reads exactly `n` digits at `s[pos]`; advances pos.
bool digits(const std::string& s, size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

}  // namespace

void add_broker_options(CLI::App& cmd, broker_options& o) {
  o.bootstrap = default_bootstrap();
  cmd.add_option("--bootstrap,-b", o.bootstrap,
                 "Broker host:port (default: $KAPPA_BOOTSTRAP, else 127.0.0.1:9092)");
  cmd.add_option("--timeout-ms", o.timeout_ms,
                 "Longest wait for the broker per request (default 10000)")
      ->check(CLI::Range(int64_t{100}, int64_t{3600} * 1000));
}

client_config make_client_config(const broker_options& o) {
  client_config c;
  c.bootstrap = o.bootstrap;
  c.request_timeout_ms = o.timeout_ms;
  c.retry_backoff_min_ms = 50;
  c.retry_backoff_max_ms = std::min<int64_t>(1000, o.timeout_ms / 4);
  c.reconnect_backoff_max_ms = c.retry_backoff_max_ms;
  return c;
}

Result<std::unique_ptr<admin>> connect_admin(const broker_options& o) {
  return admin::create(make_client_config(o));
}

std::string error_text(const Status& status) {
  std::string name = status.code().message();
  const std::string& message = status.message();
  if (message.empty()) return name;
  if (message.find(name) != std::string::npos) return message;
  return message + " (" + name + ")";
}

int fail(const std::string& command, const std::string& message) {
  std::string line = "kappactl " + command + ": " + message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitFailed;
}

int fail(const std::string& command, const Status& status) {
  return fail(command, error_text(status));
}

Result<topic_description> describe_topic(admin& a, const std::string& topic) {
  auto described = a.describe_topics({topic});
  if (!described.ok()) return described.status();
  for (topic_description& t : *described) {
    if (t.name != topic) continue;
    if (!t.status.ok()) {
      return Status(t.status.code(), "topic '" + topic + "': " + error_text(t.status));
    }
    return std::move(t);
  }
  return client_error(client_errc::unknown_topic_or_partition,
                      "topic '" + topic + "': unknown topic or partition");
}

Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& items,
                                                            const std::string& what) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid(what + " must be key=value, got '" + item + "'");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::optional<int64_t> parse_int(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  for (size_t j = i; j < text.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(text[j]))) return std::nullopt;
  }
  return std::strtoll(text.c_str(), nullptr, 10);
}

Result<int64_t> parse_iso8601_ms(const std::string& s) {
  const Status bad = invalid("'" + s +
                             "' is not an ISO-8601 time (e.g. 2026-11-22T10:00:00Z or "
                             "2026-11-22T11:00:00.5+01:00)");
  std::tm tm{};
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, month) ||
      pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, day)) {
    return bad;
  }
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
        !digits(s, pos, 2, minute)) {
      return bad;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, second)) return bad;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int scale = 100, n = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          if (n++ < 3) millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (n == 0) return bad;
      }
    }
  }
  int64_t zone_s = 0;  // no zone designator: UTC
  if (pos < s.size()) {
    char c = s[pos++];
    if (c == 'Z' || c == 'z') {
    } else if (c == '+' || c == '-') {
      int zh = 0, zm = 0;
      if (!digits(s, pos, 2, zh)) return bad;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !digits(s, pos, 2, zm)) return bad;
      zone_s = (c == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
    } else {
      return bad;
    }
  }
  if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return bad;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t epoch_s = static_cast<int64_t>(timegm(&tm)) - zone_s;
  return epoch_s * 1000 + millis;
}

}  // namespace kappa::kappactl
