#include "replication/raft/entry_codec.h"

namespace kappa::raft {
namespace {

class plain_codec final : public entry_codec {
 public:
  std::string noop(term_id, log_index) const override { return {}; }
  std::string config_entry(const config& c, term_id, log_index) const override {
    return encode_config(c);
  }
  bool read_config(const std::string& payload, config* out) const override {
    return decode_config(payload, out);
  }
};

}  // namespace

const entry_codec& default_entry_codec() {
  static const plain_codec codec;
  return codec;
}

}  // namespace kappa::raft
