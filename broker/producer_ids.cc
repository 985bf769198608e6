#include "broker/producer_ids.h"

#include "broker/wire.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::broker {

Result<std::unique_ptr<producer_ids>> producer_ids::open(storage::env& e, std::string path) {
  int64_t next = 0;
  auto contents = storage::read_metadata_file(e, path);
  if (contents.ok()) {
    wire_reader r(contents->payload);
    next = int64_t(r.u64());
    if (!r.ok() || !r.at_end() || next < 0) {
      return storage::error(storage::errc::bad_checkpoint, path + ": bad producer id block");
    }
  } else if (contents.status().code() != storage::errc::not_found) {
    return contents.status();
  }
  return std::unique_ptr<producer_ids>(new producer_ids(e, std::move(path), next));
}

Result<int64_t> producer_ids::allocate() {
  std::lock_guard lk(mu_);
  if (next_ >= reserved_until_) {
    wire_writer w;
    w.u64(uint64_t(reserved_until_ + kProducerIdBlock));
    KAPPA_RETURN_IF_ERROR(storage::write_metadata_file(env_, path_, 1, w.take()));
    reserved_until_ += kProducerIdBlock;
  }
  return next_++;
}

}  // namespace kappa::broker
