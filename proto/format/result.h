// Errors are values: Status (ok, or an error code with a message) and
// Result<T> (a T, or a non-ok Status).
//
// Each module has its own `enum class errc` registered as a
// std::error_category (format::errc, storage::errc, ...); operating-system
// failures carry std::generic_category() with the errno value, so callers can
// test `status.code() == std::errc::no_space_on_device`.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include "proto/format/assert.h"

namespace kappa {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(std::error_code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }
  // An errno-based failure: "<what>: <strerror(errnum)>".
  static Status from_errno(int errnum, const std::string& what) {
    std::error_code ec(errnum, std::generic_category());
    return Status(ec, what + ": " + ec.message());
  }

  bool ok() const { return !code_; }
  explicit operator bool() const { return ok(); }
  std::error_code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok", or the message (which already says what failed and where).
  std::string to_string() const { return ok() ? std::string("ok") : message_; }

 private:
  std::error_code code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    KAPPA_ASSERT(!std::get<Status>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { KAPPA_ASSERT(ok()); return std::get<0>(v_); }
  const T& value() const& { KAPPA_ASSERT(ok()); return std::get<0>(v_); }
  T&& value() && { KAPPA_ASSERT(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error, or an ok Status when a value is held.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kappa

#define KAPPA_CONCAT_INNER(a, b) a##b
#define KAPPA_CONCAT(a, b) KAPPA_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when it is not ok.
#define KAPPA_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::kappa::Status _kappa_st = (expr);     \
    if (!_kappa_st.ok()) return _kappa_st;  \
  } while (0)

// `KAPPA_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the error.
#define KAPPA_ASSIGN_OR_RETURN(lhs, expr) \
  KAPPA_ASSIGN_OR_RETURN_IMPL(KAPPA_CONCAT(_kappa_res_, __LINE__), lhs, expr)
#define KAPPA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
