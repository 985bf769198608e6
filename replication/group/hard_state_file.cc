#include "replication/group/hard_state_file.h"

#include "proto/format/endian.h"
#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::replication {

namespace {
constexpr uint16_t kVersion = 1;
constexpr size_t kFixedBytes = 36;
}  // namespace

Status write_persisted_state(storage::env& e, const std::string& path, const persisted_state& s) {
  const std::string conf = raft::encode_config(s.conf);
  byte_buffer buf(kFixedBytes + conf.size());
  format::store_be<uint64_t>(buf.data(), s.hard.term.value);
  format::store_be<uint64_t>(buf.data() + 8, s.hard.vote.value);
  format::store_be<int64_t>(buf.data() + 16, s.hard.commit.value);
  format::store_be<int64_t>(buf.data() + 24, s.conf_index.value);
  format::store_be<uint32_t>(buf.data() + 32, static_cast<uint32_t>(conf.size()));
  std::copy(conf.begin(), conf.end(), buf.begin() + kFixedBytes);
  return storage::write_metadata_file(e, path, kVersion, buf);
}

Result<persisted_state> read_persisted_state(storage::env& e, const std::string& path) {
  KAPPA_ASSIGN_OR_RETURN(auto f, storage::read_metadata_file(e, path));
  const auto& p = f.payload;
  auto bad = [&](const std::string& why) {
    return error(storage::errc::bad_checkpoint, path + ": " + why);
  };
  if (f.version != kVersion) return bad("unknown state file version " + std::to_string(f.version));
  if (p.size() < kFixedBytes) return bad("state payload too short");
  persisted_state s;
  s.hard.term = raft::term_id(format::load_be<uint64_t>(p.data()));
  s.hard.vote = raft::node_id(format::load_be<uint64_t>(p.data() + 8));
  s.hard.commit = raft::log_index(format::load_be<int64_t>(p.data() + 16));
  s.conf_index = raft::log_index(format::load_be<int64_t>(p.data() + 24));
  const uint32_t n = format::load_be<uint32_t>(p.data() + 32);
  if (p.size() != kFixedBytes + n) return bad("state payload length does not match its config");
  std::string conf(reinterpret_cast<const char*>(p.data()) + kFixedBytes, n);
  if (!raft::decode_config(conf, &s.conf)) return bad("undecodable membership");
  if (s.conf_index > s.hard.commit || s.hard.commit < raft::no_index)
    return bad("conf_index past commit");
  return s;
}

}  // namespace kappa::replication
