#include "replication/raft/errc.h"

namespace kappa::raft {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.raft"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "ok";
      case errc::not_leader:
        return "not leader";
      case errc::transfer_in_progress:
        return "leadership transfer in progress";
      case errc::config_change_pending:
        return "config change pending";
      case errc::leader_not_ready:
        return "leader has not committed an entry of its term";
      case errc::invalid_config_change:
        return "invalid config change";
      case errc::compacted:
        return "index compacted";
      case errc::unavailable:
        return "index unavailable";
      case errc::invalid_argument:
        return "invalid argument";
    }
    return "unknown kappa.raft error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category c;
  return c;
}

}  // namespace kappa::raft
