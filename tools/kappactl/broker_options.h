// What every kappactl command that talks to a broker shares: where the
// broker is (--bootstrap, defaulting to $KAPPA_BOOTSTRAP, then
// 127.0.0.1:9092), how long to wait (--timeout-ms), and how a failure is
// reported (one line on stderr, exit code kExitFailed).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kappa/admin.h"
#include "kappa/client_config.h"
#include "kappa/error.h"

namespace CLI {
class App;
}

namespace kappa::kappactl {

// Bounds on what one command may wait for. An unreachable broker costs at
// most timeout_ms, not libkappa's 30 s default.
struct broker_options {
  std::string bootstrap;
  int64_t timeout_ms = 10000;
};

// Adds --bootstrap and --timeout-ms to `cmd`; `o` must outlive parsing.
void add_broker_options(CLI::App& cmd, broker_options& o);

// The client settings for `o`: request timeout and backoff bounded by it.
client_config make_client_config(const broker_options& o);

// An admin client, or the error (invalid bootstrap address).
Result<std::unique_ptr<admin>> connect_admin(const broker_options& o);

// Prints "kappactl <command>: <message>" as ONE line on stderr (newlines in
// the message become spaces) and returns kExitFailed.
int fail(const std::string& command, const std::string& message);
int fail(const std::string& command, const Status& status);

// The message of a libkappa error with its category's name for the code
// when the message does not already say it.
std::string error_text(const Status& status);

// Describes one topic; fails (unknown topic, unreachable broker...) with a
// message that names the topic.
Result<topic_description> describe_topic(admin& a, const std::string& topic);

// Parses repeated "k=v" arguments; fails on an entry without '=' or with an
// empty key. Later entries win.
Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& items,
                                                            const std::string& what);

// Milliseconds since the epoch of an ISO-8601 UTC or offset time:
// 2026-11-22T10:00:00Z, 2026-11-22T10:00:00.250+01:00, 2026-11-22 (midnight
// UTC). Fails on anything else.
Result<int64_t> parse_iso8601_ms(const std::string& text);

// A whole decimal number (optionally negative), or nullopt.
std::optional<int64_t> parse_int(const std::string& text);

}  // namespace kappa::kappactl
