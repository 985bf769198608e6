// raft::message <-> RaftMessage: every message type round trips with its
// entries; unknown or unset wire enums are errors, not guesses.
#include <catch2/catch.hpp>

#include "kappa/internal/v1/peer.pb.h"
#include "replication/transport/errc.h"
#include "replication/transport/message_codec.h"

namespace kappa::replication {
namespace {

namespace pb = internal::v1;
using raft::entry_type;
using raft::log_index;
using raft::message_type;
using raft::node_id;
using raft::term_id;

constexpr message_type kAllTypes[] = {
    message_type::pre_vote,      message_type::pre_vote_resp,  message_type::vote,
    message_type::vote_resp,     message_type::append,         message_type::append_resp,
    message_type::heartbeat,     message_type::heartbeat_resp, message_type::timeout_now,
    message_type::install_start,
};

raft::message sample(message_type t) {
  raft::message m;
  m.type = t;
  m.from = node_id(3);
  m.to = node_id(7);
  m.term = term_id(42);
  m.log_term = term_id(41);
  m.index = log_index(1'000'000'000'000);
  m.entries = {
      {term_id(40), log_index(10), log_index(19), entry_type::normal,
       std::string("batch\0bytes", 11)},
      {term_id(41), log_index(20), log_index(20), entry_type::noop, ""},
      {term_id(41), log_index(21), log_index(21), entry_type::config, "cfg"},
  };
  m.commit = log_index(15);
  m.reject = true;
  m.reject_hint = log_index(-1);
  m.transfer = true;
  return m;
}

void require_equal(const raft::message& a, const raft::message& b) {
  CHECK(a.type == b.type);
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.term == b.term);
  CHECK(a.log_term == b.log_term);
  CHECK(a.index == b.index);
  CHECK(a.entries == b.entries);
  CHECK(a.commit == b.commit);
  CHECK(a.reject == b.reject);
  CHECK(a.reject_hint == b.reject_hint);
  CHECK(a.transfer == b.transfer);
}

TEST_CASE("every message type round trips with its entries", "[codec]") {
  for (message_type t : kAllTypes) {
    INFO(raft::to_string(t));
    raft::message in = sample(t);
    pb::RaftMessage wire;
    REQUIRE(encode_message(in, &wire).ok());
    CHECK(wire.type() == static_cast<int>(t) + 1);  // 0 stays "not set"

    // Through bytes, as on the wire.
    pb::RaftMessage parsed;
    REQUIRE(parsed.ParseFromString(wire.SerializeAsString()));
    raft::message copied;
    REQUIRE(decode_message(parsed, &copied).ok());
    require_equal(in, copied);
    raft::message moved;
    REQUIRE(decode_message(std::move(parsed), &moved).ok());
    require_equal(in, moved);

    pb::RaftMessage from_moved;
    raft::message consumed = in;
    REQUIRE(encode_message(std::move(consumed), &from_moved).ok());
    CHECK(from_moved.SerializeAsString() == wire.SerializeAsString());
  }
}

TEST_CASE("defaults round trip: no_index survives, not read back as 0", "[codec]") {
  raft::message in;  // index, commit, reject_hint are no_index (-1)
  in.type = message_type::heartbeat;
  pb::RaftMessage wire;
  REQUIRE(encode_message(in, &wire).ok());
  raft::message out;
  out.index = log_index(5);
  REQUIRE(decode_message(wire, &out).ok());
  require_equal(in, out);
  CHECK(out.index == raft::no_index);
}

TEST_CASE("an unset or unknown message type is an error naming the value", "[codec]") {
  pb::RaftMessage wire;
  raft::message out;
  Status s = decode_message(wire, &out);
  CHECK(s.code() == transport_errc::unknown_message_type);
  CHECK_THAT(s.message(), Catch::Contains("not set"));

  wire.set_type(static_cast<pb::MessageType>(57));  // proto3 enums keep unknown values
  pb::RaftMessage parsed;
  REQUIRE(parsed.ParseFromString(wire.SerializeAsString()));
  s = decode_message(parsed, &out);
  CHECK(s.code() == transport_errc::unknown_message_type);
  CHECK_THAT(s.message(), Catch::Contains("57"));
}

TEST_CASE("a message type the wire does not know yet is refused on encode", "[codec]") {
  raft::message m;
  m.type = static_cast<message_type>(static_cast<int>(message_type::install_start) + 1);
  pb::RaftMessage wire;
  CHECK(encode_message(m, &wire).code() == transport_errc::unknown_message_type);
}

TEST_CASE("bad entries are refused: unknown type, last before base", "[codec]") {
  raft::message in = sample(message_type::append);
  pb::RaftMessage wire;
  REQUIRE(encode_message(in, &wire).ok());
  raft::message out;

  pb::RaftMessage unset = wire;
  unset.mutable_entries(1)->set_type(pb::ENTRY_TYPE_UNSPECIFIED);
  CHECK(decode_message(unset, &out).code() == transport_errc::unknown_entry_type);

  pb::RaftMessage unknown = wire;
  unknown.mutable_entries(2)->set_type(static_cast<pb::EntryType>(9));
  CHECK(decode_message(unknown, &out).code() == transport_errc::unknown_entry_type);

  pb::RaftMessage backwards = wire;
  backwards.mutable_entries(0)->set_last_index(9);
  CHECK(decode_message(backwards, &out).code() == transport_errc::invalid_message);

  raft::message odd = in;
  odd.entries[0].type = static_cast<entry_type>(3);
  CHECK(encode_message(odd, &wire).code() == transport_errc::unknown_entry_type);
}

}  // namespace
}  // namespace kappa::replication
