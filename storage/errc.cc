#include "storage/errc.h"

namespace kappa::storage {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kappa.storage"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::corruption: return "log corruption";
      case errc::offset_out_of_range: return "offset out of range";
      case errc::log_failed: return "log failed";
      case errc::log_closed: return "log closed";
      case errc::invalid_batch: return "invalid record batch";
      case errc::batch_too_large: return "record batch too large";
      case errc::bad_checkpoint: return "bad metadata file";
      case errc::not_found: return "not found";
      case errc::already_exists: return "already exists";
      case errc::invalid_argument: return "invalid argument";
    }
    return "unknown kappa.storage error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const category c;
  return c;
}

}  // namespace kappa::storage
