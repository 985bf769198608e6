#include "replication/controller/errc.h"

namespace kappa::controller {
namespace {

class category : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.controller"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok:
        return "ok";
      case errc::unknown_server_error:
        return "unknown server error";
      case errc::unknown_topic_or_partition:
        return "unknown topic or partition";
      case errc::request_timed_out:
        return "request timed out";
      case errc::topic_already_exists:
        return "topic already exists";
      case errc::invalid_partitions:
        return "invalid partitions";
      case errc::invalid_replication_factor:
        return "invalid replication factor";
      case errc::not_controller:
        return "not controller";
      case errc::invalid_request:
        return "invalid request";
      case errc::reassignment_in_progress:
        return "reassignment in progress";
    }
    return "controller error " + std::to_string(c);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category c;
  return c;
}

int api_error_code(const Status& st) {
  if (st.ok()) return 0;
  if (st.code().category() == error_category()) return st.code().value();
  return static_cast<int>(errc::unknown_server_error);
}

Status from_api_error_code(int code, std::string message) {
  if (code == 0) return Status();
  // Numbers outside our enum still keep their value: the category's
  // message() covers them, and api_error_code passes them through.
  return Status(std::error_code(code, error_category()), std::move(message));
}

}  // namespace kappa::controller
