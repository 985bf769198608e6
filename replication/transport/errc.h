// Error codes of the broker-to-broker transport, registered as the
// std::error_category "kappa.transport".
#pragma once

#include <string>
#include <system_error>

#include "proto/format/result.h"

namespace kappa::replication {

enum class transport_errc {
  ok = 0,
  unknown_message_type = 1,  // a message type with no mapping on this side (newer peer or core)
  unknown_entry_type,        // an entry type with no mapping on this side
  invalid_message,           // a field breaks raft::message's invariants (e.g. last < base)
};

const std::error_category& transport_error_category();
inline std::error_code make_error_code(transport_errc e) {
  return {static_cast<int>(e), transport_error_category()};
}
inline Status transport_error(transport_errc e, std::string message) {
  return Status(make_error_code(e), std::move(message));
}

}  // namespace kappa::replication

template <>
struct std::is_error_code_enum<kappa::replication::transport_errc> : std::true_type {};
