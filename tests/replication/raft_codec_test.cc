// The entry codec: the core's own entries (a new leader's no-op, config
// changes) take their payload from options.codec, and configs are read back
// through it, also when a restarted node scans its log.
#include <catch2/catch.hpp>

#include "replication/raft/raft.h"

namespace kappa::raft {
namespace {

// Tags every payload so that a use of the plain encoding would show.
class tagging_codec final : public entry_codec {
 public:
  std::string noop(term_id term, log_index index) const override {
    return "noop@" + std::to_string(term.value) + "/" + std::to_string(index.value);
  }
  std::string config_entry(const config& c, term_id term, log_index index) const override {
    return "conf@" + std::to_string(term.value) + "/" + std::to_string(index.value) + ":" +
           encode_config(c);
  }
  bool read_config(const std::string& payload, config* out) const override {
    auto colon = payload.find(':');
    if (payload.rfind("conf@", 0) != 0 || colon == std::string::npos) return false;
    return decode_config(payload.substr(colon + 1), out);
  }
};

void persist(node& n, memory_log& storage, hard_state* hard) {
  while (n.has_ready()) {
    ready rd = n.get_ready();
    REQUIRE(rd.truncate_from == std::nullopt);
    REQUIRE(storage.append(rd.entries).ok());
    if (rd.hard) *hard = *rd.hard;
    n.advance(rd);
  }
}

TEST_CASE("codec: no-op and config payloads come from options.codec", "[raft][codec]") {
  tagging_codec codec;
  memory_log storage;
  hard_state hard;
  options o{.id = node_id(1), .log = &storage, .conf = {.voters = {node_id(1)}}};
  o.codec = &codec;
  auto n = std::move(node::create(o)).value();
  n->campaign();
  REQUIRE(n->role() == role::leader);
  persist(*n, storage, &hard);
  REQUIRE(storage.all().size() == 1);
  CHECK(storage.all()[0].type == entry_type::noop);
  CHECK(storage.all()[0].payload == "noop@1/0");
  CHECK(n->log().commit() == log_index(0));

  REQUIRE(n->propose_config_change({config_change::kind::add_learner, node_id(2)}).ok());
  persist(*n, storage, &hard);
  REQUIRE(storage.all().size() == 2);
  CHECK(storage.all()[1].type == entry_type::config);
  CHECK(storage.all()[1].payload.rfind("conf@1/1:", 0) == 0);
  CHECK(n->membership().is_learner(node_id(2)));

  // A restarted node finds the config entry in its log through the codec.
  options r = o;
  r.hard = hard;
  auto restarted = std::move(node::create(r)).value();
  CHECK(restarted->membership().is_learner(node_id(2)));
  CHECK(restarted->membership().is_voter(node_id(1)));
}

TEST_CASE("codec: the default codec keeps the plain encoding", "[raft][codec]") {
  const entry_codec& c = default_entry_codec();
  CHECK(c.noop(term_id(3), log_index(9)).empty());
  config conf{.voters = {node_id(1), node_id(3)}};
  CHECK(c.config_entry(conf, term_id(3), log_index(9)) == encode_config(conf));
  config out;
  REQUIRE(c.read_config(encode_config(conf), &out));
  CHECK(out == conf);
  CHECK_FALSE(c.read_config("garbage", &out));
}

}  // namespace
}  // namespace kappa::raft
