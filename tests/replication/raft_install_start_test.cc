// install_start on a follower, message by message: the three answers
// (nothing to do, a matching log, a restart) and malformed messages.
#include <catch2/catch.hpp>

#include "replication/raft/errc.h"
#include "replication/raft/raft.h"

namespace kappa::raft {
namespace {

entry make(uint64_t term, int64_t base, int64_t last) {
  return {term_id(term), log_index(base), log_index(last), entry_type::normal, ""};
}

// A follower of term 2 holding [0,5] (terms 1, 1, 2) with commit 2.
struct follower {
  memory_log storage;
  std::unique_ptr<node> n;
  config conf{.voters = {node_id(1), node_id(2), node_id(3)}};
  follower() {
    REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 2), make(2, 3, 5)}).ok());
    options o{.id = node_id(2),
              .log = &storage,
              .hard = {.term = term_id(2), .commit = log_index(2)},
              .conf = conf};
    n = std::move(node::create(o)).value();
  }
  message install(int64_t index, uint64_t log_term) {
    return {.type = message_type::install_start,
            .from = node_id(1),
            .to = node_id(2),
            .term = term_id(2),
            .log_term = term_id(log_term),
            .index = log_index(index),
            .entries = {entry{.term = term_id(0),
                              .base_index = no_index,
                              .last_index = no_index,
                              .type = entry_type::config,
                              .payload = encode_config(conf)}},
            .commit = log_index(9)};
  }
  ready step_and_ready(const message& m) {
    REQUIRE(n->step(m).ok());
    ready rd = n->get_ready();
    return rd;
  }
};

TEST_CASE("install_start: at or below our commit, answer with the commit", "[raft][install]") {
  follower f;
  ready rd = f.step_and_ready(f.install(1, 1));
  CHECK_FALSE(rd.restart_log);
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == message_type::append_resp);
  CHECK(rd.messages[0].index == log_index(2));
  CHECK_FALSE(rd.messages[0].reject);
  f.n->advance(rd);
}

TEST_CASE("install_start: a log that matches at the start only moves commit", "[raft][install]") {
  follower f;
  ready rd = f.step_and_ready(f.install(5, 2));
  CHECK_FALSE(rd.restart_log);
  CHECK_FALSE(rd.truncate_from);
  REQUIRE(rd.hard);
  CHECK(rd.hard->commit == log_index(5));
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].index == log_index(5));
  f.n->advance(rd);
  CHECK(f.n->log().last_index() == log_index(5));
}

TEST_CASE("install_start: a log that does not match restarts at the leader's start",
          "[raft][install]") {
  follower f;
  // Our entry at 5 is of term 2; the leader's is of term 3: restart at 6.
  ready rd = f.step_and_ready(f.install(5, 3));
  REQUIRE(rd.restart_log);
  CHECK(rd.restart_log->start == log_index(6));
  CHECK(rd.restart_log->prev_term == term_id(3));
  CHECK(rd.restart_log->conf == f.conf);
  CHECK(rd.restart_log->conf_index == no_index);
  CHECK(rd.entries.empty());
  CHECK(rd.committed_entries.empty());  // nothing below the start is applied
  REQUIRE(rd.hard);
  CHECK(rd.hard->commit == log_index(5));
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].index == log_index(5));
  // Before advance, the node already sees the restarted log.
  CHECK(f.n->log().first_index() == log_index(6));
  CHECK(f.n->log().last_index() == log_index(5));
  CHECK(f.n->log().last_term() == term_id(3));
  f.storage.reset(rd.restart_log->start, rd.restart_log->prev_term);
  f.n->advance(rd);
  CHECK(f.n->log().commit() == log_index(5));
  CHECK(f.n->log().applied() == log_index(5));
  // Appends continue from the start.
  message app{.type = message_type::append,
              .from = node_id(1),
              .to = node_id(2),
              .term = term_id(3),
              .log_term = term_id(3),
              .index = log_index(5),
              .entries = {make(3, 6, 7)},
              .commit = log_index(7)};
  rd = f.step_and_ready(app);
  REQUIRE(rd.entries.size() == 1);
  REQUIRE(f.storage.append(rd.entries).ok());
  f.n->advance(rd);
  CHECK(f.n->log().last_index() == log_index(7));
}

TEST_CASE("install_start: restart and appends in one ready", "[raft][install]") {
  follower f;
  REQUIRE(f.n->step(f.install(8, 3)).ok());
  message app{.type = message_type::append,
              .from = node_id(1),
              .to = node_id(2),
              .term = term_id(2),
              .log_term = term_id(3),
              .index = log_index(8),
              .entries = {make(3, 9, 9)},
              .commit = log_index(9)};
  REQUIRE(f.n->step(app).ok());
  ready rd = f.n->get_ready();
  REQUIRE(rd.restart_log);
  CHECK(rd.restart_log->start == log_index(9));
  REQUIRE(rd.entries.size() == 1);
  CHECK(rd.hard->commit == log_index(9));
  f.storage.reset(rd.restart_log->start, rd.restart_log->prev_term);
  REQUIRE(f.storage.append(rd.entries).ok());
  f.n->advance(rd);
  // The entry after the start is committed and applied from the new log.
  rd = f.n->get_ready();
  REQUIRE(rd.committed_entries.size() == 1);
  CHECK(rd.committed_entries[0].base_index == log_index(9));
  f.n->advance(rd);
}

TEST_CASE("install_start: without its config entry it is refused", "[raft][install]") {
  follower f;
  message m = f.install(8, 3);
  m.entries.clear();
  CHECK(f.n->step(m).code() == errc::invalid_argument);
  m = f.install(8, 3);
  m.entries[0].payload = "garbage";
  CHECK(f.n->step(m).code() == errc::invalid_argument);
  CHECK(f.n->log().last_index() == log_index(5));
}

TEST_CASE("node: offsets below the log start count as committed on create", "[raft][install]") {
  memory_log storage(log_index(10), term_id(4));
  REQUIRE(storage.append({make(4, 10, 12)}).ok());
  options o{.id = node_id(1), .log = &storage, .hard = {.term = term_id(4)}};
  o.conf = {.voters = {node_id(1), node_id(2), node_id(3)}};
  auto n = std::move(node::create(o)).value();
  CHECK(n->log().commit() == log_index(9));
  CHECK(n->log().applied() == log_index(9));
}

}  // namespace
}  // namespace kappa::raft
