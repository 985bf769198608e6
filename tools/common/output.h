// Output helpers shared by the tools (kappactl, kappa-bench): JSON string
// escaping, base64, and a printable rendering of raw bytes for human output.
// Kept free of CLI11 and of storage so any tool file may include it cheaply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/format/bytes.h"

namespace kappa::tools {

// `s` as a JSON string literal, quotes included. Bytes >= 0x80 are passed
// through unchanged, so callers give it UTF-8 (or use base64 for raw bytes).
std::string json_string(std::string_view s);

// Standard base64 (RFC 4648, with '=' padding).
std::string base64_encode(byte_view bytes);

// base64 in a JSON string, or JSON null for a null field.
std::string json_base64_or_null(const std::optional<byte_view>& bytes);

// Bytes for a human reader: printable ASCII as is, everything else as \xNN,
// '"' and '\' escaped, in double quotes; "null" for a null field.
std::string printable(const std::optional<byte_view>& bytes);

// A number with a fixed count of decimals ("12.34"), for human and JSON
// output alike (never exponent notation, never locale-dependent).
std::string fixed(double value, int decimals);

}  // namespace kappa::tools
