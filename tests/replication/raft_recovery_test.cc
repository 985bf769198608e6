// options.no_vote_until (protocol-aware recovery), call by call: no vote, no
// campaign, no transfer, until the log reaches the mark; appends as usual.
#include <catch2/catch.hpp>

#include "replication/raft/raft.h"

namespace kappa::raft {
namespace {

entry make(uint64_t term, int64_t base, int64_t last) {
  return {term_id(term), log_index(base), log_index(last), entry_type::normal, ""};
}

TEST_CASE("recovery: a short log neither votes nor campaigns until it is refilled",
          "[raft][recovery]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 2)}).ok());
  options o{.id = node_id(3),
            .log = &storage,
            .hard = {.term = term_id(1), .commit = log_index(2)},
            .conf = {.voters = {node_id(1), node_id(2), node_id(3)}}};
  o.no_vote_until = log_index(5);
  auto n = std::move(node::create(o)).value();
  CHECK(n->recovering());

  auto drain = [&] {
    std::vector<message> out;
    while (n->has_ready()) {
      ready rd = n->get_ready();
      REQUIRE(storage.append(rd.entries).ok());
      out.insert(out.end(), rd.messages.begin(), rd.messages.end());
      n->advance(rd);
    }
    return out;
  };

  // No campaign: on timeouts, when asked, or when told by a leader.
  for (int i = 0; i < 40; ++i) n->tick();
  n->campaign();
  REQUIRE(n->step({.type = message_type::timeout_now,
                   .from = node_id(1),
                   .to = node_id(3),
                   .term = term_id(1)})
              .ok());
  CHECK(n->role() == role::follower);
  CHECK(n->term() == term_id(1));
  CHECK(drain().empty());

  // A candidate with a longer log is refused anyway.
  REQUIRE(n->step({.type = message_type::vote,
                   .from = node_id(2),
                   .to = node_id(3),
                   .term = term_id(2),
                   .log_term = term_id(1),
                   .index = log_index(9)})
              .ok());
  std::vector<message> out = drain();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == message_type::vote_resp);
  CHECK(out[0].reject);
  CHECK(n->vote() == no_node);

  // Appends are taken and acknowledged; at offset 5 the node is back.
  REQUIRE(n->step({.type = message_type::append,
                   .from = node_id(1),
                   .to = node_id(3),
                   .term = term_id(2),
                   .log_term = term_id(1),
                   .index = log_index(2),
                   .entries = {make(1, 3, 5)},
                   .commit = log_index(2)})
              .ok());
  out = drain();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == message_type::append_resp);
  CHECK(out[0].index == log_index(5));
  CHECK_FALSE(n->recovering());
  // Recovery is over for good: a truncation below the mark (offsets 3..5
  // are not committed) does not bring it back.
  REQUIRE(n->step({.type = message_type::append,
                   .from = node_id(1),
                   .to = node_id(3),
                   .term = term_id(2),
                   .log_term = term_id(1),
                   .index = log_index(2),
                   .entries = {make(2, 3, 3)},
                   .commit = log_index(2)})
              .ok());
  for (ready rd = n->get_ready();; rd = n->get_ready()) {
    if (rd.truncate_from) REQUIRE(storage.truncate_from(*rd.truncate_from).ok());
    REQUIRE(storage.append(rd.entries).ok());
    n->advance(rd);
    if (!n->has_ready()) break;
  }
  CHECK(n->log().last_index() == log_index(3));
  CHECK_FALSE(n->recovering());
  REQUIRE(n->step({.type = message_type::timeout_now,
                   .from = node_id(1),
                   .to = node_id(3),
                   .term = term_id(2)})
              .ok());
  CHECK(n->role() == role::candidate);
}

}  // namespace
}  // namespace kappa::raft

namespace kappa::raft {
namespace {

// The leader's side: a recovering follower's reject below its match is not
// stale (it lost acknowledged entries): the leader probes it from its hint.
TEST_CASE("recovery: the leader re-probes a follower that lost acknowledged entries",
          "[raft][recovery]") {
  memory_log storage;
  REQUIRE(storage.append({entry{term_id(1), log_index(0), log_index(0), entry_type::normal, ""},
                          entry{term_id(1), log_index(1), log_index(9), entry_type::normal, ""}})
              .ok());
  options o{.id = node_id(1),
            .log = &storage,
            .hard = {.term = term_id(1), .commit = log_index(9)},
            .conf = {.voters = {node_id(1), node_id(2), node_id(3)}}};
  o.pre_vote = false;
  auto n = std::move(node::create(o)).value();
  auto drain = [&] {
    std::vector<message> out;
    while (n->has_ready()) {
      ready rd = n->get_ready();
      REQUIRE(storage.append(rd.entries).ok());
      out.insert(out.end(), rd.messages.begin(), rd.messages.end());
      n->advance(rd);
    }
    return out;
  };
  n->campaign();
  drain();
  REQUIRE(n->step({.type = message_type::vote_resp, .from = node_id(2), .to = node_id(1),
                   .term = term_id(2)})
              .ok());
  REQUIRE(n->role() == role::leader);
  drain();
  const log_index last = storage.last_index();  // the new leader's no-op
  REQUIRE(n->step({.type = message_type::append_resp, .from = node_id(3), .to = node_id(1),
                   .term = term_id(2), .index = last})
              .ok());
  drain();
  REQUIRE(n->progresses().at(node_id(3)).match == last);

  // An ordinary reject below the match is stale and ignored...
  REQUIRE(n->step({.type = message_type::append_resp, .from = node_id(3), .to = node_id(1),
                   .term = term_id(2), .index = last, .reject = true,
                   .reject_hint = log_index(4)})
              .ok());
  CHECK(drain().empty());
  CHECK(n->progresses().at(node_id(3)).match == last);

  // ...but from a recovering follower it restarts replication at its hint.
  REQUIRE(n->step({.type = message_type::append_resp, .from = node_id(3), .to = node_id(1),
                   .term = term_id(2), .index = last, .reject = true,
                   .reject_hint = log_index(4), .lost_entries = true})
              .ok());
  std::vector<message> out = drain();
  CHECK(n->progresses().at(node_id(3)).match == log_index(4));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == message_type::append);
  CHECK(out[0].to == node_id(3));
  CHECK(out[0].index == log_index(4));
  CHECK(n->log().commit() >= log_index(9));  // commit never moves back
}

}  // namespace
}  // namespace kappa::raft
