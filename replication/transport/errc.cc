#include "replication/transport/errc.h"

namespace kappa::replication {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.transport"; }
  std::string message(int ev) const override {
    switch (static_cast<transport_errc>(ev)) {
      case transport_errc::ok:
        return "ok";
      case transport_errc::unknown_message_type:
        return "unknown raft message type";
      case transport_errc::unknown_entry_type:
        return "unknown raft entry type";
      case transport_errc::invalid_message:
        return "invalid raft message";
    }
    return "unknown kappa.transport error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& transport_error_category() {
  static const category c;
  return c;
}

}  // namespace kappa::replication
