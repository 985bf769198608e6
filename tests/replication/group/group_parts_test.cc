// The pieces of the group runner: the control-batch codec, the epoch cache,
// the state file and the log view over a real storage::log.
#include <catch2/catch.hpp>

#include "proto/format/batch_validator.h"
#include "proto/format/records.h"
#include "replication/group/batch_entry_codec.h"
#include "replication/group/epoch_cache.h"
#include "replication/group/hard_state_file.h"
#include "replication/group/storage_log_view.h"
#include "replication/raft/errc.h"
#include "storage/errc.h"

namespace kappa::replication {
namespace {

std::string data_batch(int records, int tag = 0) {
  std::vector<format::record> rs(records);
  for (int i = 0; i < records; ++i) {
    rs[i].key = "k" + std::to_string(tag);
    rs[i].value = std::string(50, static_cast<char>('a' + (tag + i) % 26));
    rs[i].timestamp = 1000 + i;
  }
  auto b = format::build_batch({}, rs);
  REQUIRE(b.ok());
  return std::string(as_chars(*b));
}

storage::log_config test_config() {
  storage::log_config c;
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  c.retention_ms = -1;
  c.flush = storage::flush_policy::interval;
  return c;
}

// Appends `b` at the log end with epoch `epoch` (stamped).
void append(storage::log& l, epoch_cache& ec, std::string b, uint64_t epoch) {
  const int64_t base = l.log_end_offset();
  format::stamp_batch(mutable_byte_view(reinterpret_cast<uint8_t*>(b.data()), b.size()), base,
                      static_cast<int32_t>(epoch));
  REQUIRE(l.append_with_offsets(as_bytes(b)).ok());
  REQUIRE(ec.on_append(raft::term_id(epoch), base).ok());
}

}  // namespace

TEST_CASE("control batches carry the no-op and the config and validate", "[group][codec]") {
  batch_entry_codec codec(raft::node_id(7), [] { return int64_t{5000}; });
  const std::string noop = codec.noop(raft::term_id(3), raft::log_index(41));
  auto h = format::validate_batch(as_bytes(noop), {}, format::validation_depth::records);
  REQUIRE(h.ok());
  CHECK(h->is_control());
  CHECK(h->base_offset == 41);
  CHECK(h->partition_leader_epoch == 3);
  CHECK(control_type(as_bytes(noop)) == kControlLeaderChange);
  CHECK(entry_type_of(as_bytes(noop)) == raft::entry_type::noop);

  raft::config c{{raft::node_id(1), raft::node_id(2)}, {raft::node_id(3)}};
  const std::string ce = codec.config_entry(c, raft::term_id(4), raft::log_index(50));
  REQUIRE(format::validate_batch(as_bytes(ce), {}, format::validation_depth::records).ok());
  CHECK(entry_type_of(as_bytes(ce)) == raft::entry_type::config);
  raft::config back;
  REQUIRE(codec.read_config(ce, &back));
  CHECK(back == c);
  CHECK_FALSE(codec.read_config(noop, &back));
  CHECK(entry_type_of(as_bytes(data_batch(3))) == raft::entry_type::normal);
}

TEST_CASE("state file round-trips and rejects damage", "[group][state]") {
  auto env = storage::new_mem_env(1 << 20);
  REQUIRE(env->create_dirs("/g").ok());
  CHECK(read_persisted_state(*env, "/g/state").status().code() == storage::errc::not_found);
  persisted_state s;
  s.hard = {raft::term_id(5), raft::node_id(2), raft::log_index(99)};
  s.conf = {{raft::node_id(1), raft::node_id(2), raft::node_id(3)}, {}};
  s.conf_index = raft::log_index(10);
  REQUIRE(write_persisted_state(*env, "/g/state", s).ok());
  auto r = read_persisted_state(*env, "/g/state");
  REQUIRE(r.ok());
  CHECK(*r == s);
  {
    auto f = env->open("/g/state", storage::open_mode::read_write);
    REQUIRE(f.ok());
    uint8_t x = 0xff;
    REQUIRE((*f)->pwrite(20, byte_view(&x, 1)).ok());
  }
  CHECK(read_persisted_state(*env, "/g/state").status().code() == storage::errc::bad_checkpoint);
}

TEST_CASE("epoch cache answers terms, trims, persists and rebuilds", "[group][epochs]") {
  auto env = storage::new_mem_env(8 << 20);
  auto lr = storage::log::open(*env, "/p", test_config());
  REQUIRE(lr.ok());
  auto& l = **lr;
  auto ecr = epoch_cache::open(*env, "/p/epochs", l);
  REQUIRE(ecr.ok());
  auto& ec = **ecr;
  CHECK(ec.term_at(-1) == raft::term_id(0));
  append(l, ec, data_batch(2), 1);  // 0..1
  append(l, ec, data_batch(3), 1);  // 2..4
  append(l, ec, data_batch(1), 3);  // 5
  append(l, ec, data_batch(2), 4);  // 6..7
  CHECK(ec.entries().size() == 3);
  CHECK(ec.term_at(0) == raft::term_id(1));
  CHECK(ec.term_at(4) == raft::term_id(1));
  CHECK(ec.term_at(5) == raft::term_id(3));
  CHECK(ec.term_at(7) == raft::term_id(4));

  storage_log_view view(l, ec);
  CHECK(view.first_index() == raft::log_index(0));
  CHECK(view.last_index() == raft::log_index(7));
  CHECK(view.term(raft::log_index(3)).value() == raft::term_id(1));
  CHECK(view.term(raft::log_index(8)).status().code() == raft::errc::unavailable);
  auto es = view.entries(raft::log_index(3), raft::log_index(8), 1 << 20);
  REQUIRE(es.ok());
  REQUIRE(es->size() == 3);
  CHECK((*es)[0].base_index == raft::log_index(2));
  CHECK((*es)[0].last_index == raft::log_index(4));
  CHECK((*es)[2].term == raft::term_id(4));
  auto one = view.entries(raft::log_index(0), raft::log_index(8), 1);
  REQUIRE(one.ok());
  CHECK(one->size() == 1);

  // Reopen: the file is used as is.
  {
    auto again = epoch_cache::open(*env, "/p/epochs", l);
    REQUIRE(again.ok());
    CHECK_FALSE((*again)->rebuilt());
    CHECK((*again)->entries() == ec.entries());
  }
  // A stale file (missing the last epoch) is rebuilt from the batches.
  REQUIRE(l.truncate_suffix(6).ok());
  REQUIRE(ec.truncate_from(6).ok());
  CHECK(ec.entries().size() == 2);
  REQUIRE(env->remove("/p/epochs").ok());
  {
    auto again = epoch_cache::open(*env, "/p/epochs", l);
    REQUIRE(again.ok());
    CHECK((*again)->rebuilt());
    CHECK((*again)->entries() == ec.entries());
  }
  // After retention the term below the log start is still known.
  REQUIRE(l.truncate_prefix(5).ok());
  CHECK(view.term(raft::log_index(4)).value() == raft::term_id(1));
  CHECK(view.term(raft::log_index(3)).status().code() == raft::errc::compacted);
  REQUIRE(ec.reset(100, raft::term_id(9)).ok());
  CHECK(ec.term_at(99) == raft::term_id(9));
}

}  // namespace kappa::replication

namespace kappa::replication {

TEST_CASE("epoch cache drops entries past the log end and rebuilds when the last epoch disagrees",
          "[group][epochs]") {
  auto env = storage::new_mem_env(8 << 20);
  auto lr = storage::log::open(*env, "/p", test_config());
  REQUIRE(lr.ok());
  auto& l = **lr;
  {
    auto ec = epoch_cache::open(*env, "/p/epochs", l);
    REQUIRE(ec.ok());
    append(l, **ec, data_batch(2), 1);  // 0..1
    append(l, **ec, data_batch(2), 2);  // 2..3
    append(l, **ec, data_batch(2), 5);  // 4..5
  }
  // The log lost its tail (a crash) but the cache file kept epoch 5.
  REQUIRE(l.truncate_suffix(4).ok());
  {
    auto ec = epoch_cache::open(*env, "/p/epochs", l);
    REQUIRE(ec.ok());
    CHECK_FALSE((*ec)->rebuilt());
    CHECK((*ec)->last_epoch() == raft::term_id(2));
    // Batches of epoch 7 reach the log, but the cache never hears of them.
    std::string b = data_batch(1);
    format::stamp_batch(mutable_byte_view(reinterpret_cast<uint8_t*>(b.data()), b.size()), 4, 7);
    REQUIRE(l.append_with_offsets(as_bytes(b)).ok());
  }
  auto ec = epoch_cache::open(*env, "/p/epochs", l);
  REQUIRE(ec.ok());
  CHECK((*ec)->rebuilt());
  CHECK((*ec)->term_at(4) == raft::term_id(7));
  CHECK((*ec)->term_at(3) == raft::term_id(2));
}

}  // namespace kappa::replication
