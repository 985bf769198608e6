// Unit tests of the pieces under the scripts: the log view, the node's log,
// and the invariants the core asserts (checked in a forked child, since a
// broken invariant aborts the process by design).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>

#include "replication/raft/errc.h"
#include "replication/raft/raft.h"

namespace kappa::raft {
namespace {

entry make(uint64_t term, int64_t base, int64_t last, std::string payload = "") {
  return {term_id(term), log_index(base), log_index(last), entry_type::normal, std::move(payload)};
}

// Runs f in a child process; true when it died of SIGABRT (a KAPPA_ASSERT).
bool aborts(const std::function<void()>& f) {
  pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch2's handler: the parent judges
    std::fclose(stderr);            // keep the expected assertion message out of the output
    f();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

TEST_CASE("memory_log: term is defined for every offset inside a multi-offset entry", "[raft]") {
  memory_log log;
  REQUIRE(log.append({make(1, 0, 0), make(2, 1, 5, "five"), make(2, 6, 7)}).ok());
  CHECK(*log.term(log_index(-1)) == term_id(0));
  for (int64_t i = 1; i <= 5; ++i) CHECK(*log.term(log_index(i)) == term_id(2));
  CHECK(log.term(log_index(8)).status().code() == errc::unavailable);
  // A range starting inside an entry returns the whole entry.
  auto es = log.entries(log_index(3), log_index(7), 1 << 20);
  REQUIRE(es.ok());
  REQUIRE(es->size() == 2);
  CHECK((*es)[0].base_index == log_index(1));
  // max_bytes 0 still returns one entry.
  CHECK(log.entries(log_index(1), log_index(8), 0)->size() == 1);
}

TEST_CASE("memory_log: truncation and compaction only at entry boundaries", "[raft]") {
  memory_log log;
  REQUIRE(log.append({make(1, 0, 0), make(1, 1, 5), make(2, 6, 7)}).ok());
  CHECK(log.truncate_from(log_index(3)).code() == errc::invalid_argument);
  CHECK(log.compact_to(log_index(3)).code() == errc::invalid_argument);
  REQUIRE(log.compact_to(log_index(6)).ok());
  CHECK(log.first_index() == log_index(6));
  CHECK(*log.term(log_index(5)) == term_id(1));  // the term before the start is kept
  CHECK(log.term(log_index(4)).status().code() == errc::compacted);
  REQUIRE(log.truncate_from(log_index(6)).ok());
  CHECK(log.last_index() == log_index(5));
  CHECK(log.append({make(3, 7, 7)}).code() == errc::invalid_argument);  // a gap
}

TEST_CASE("raft_log: up-to-date compares last terms, then lengths (§5.4.1)", "[raft]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(2, 1, 3)}).ok());
  raft_log log(storage, no_index, no_index);
  CHECK(log.is_up_to_date(log_index(3), term_id(2)));
  CHECK(log.is_up_to_date(log_index(0), term_id(3)));  // newer term, shorter log
  CHECK_FALSE(log.is_up_to_date(log_index(2), term_id(2)));
  CHECK_FALSE(log.is_up_to_date(log_index(9), term_id(1)));  // longer log, older term
}

TEST_CASE("raft_log: an entry of an older term is not committed by counting (§5.4.2)", "[raft]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(2, 1, 3)}).ok());
  raft_log log(storage, no_index, no_index);
  CHECK_FALSE(log.maybe_commit(log_index(3), term_id(3)));
  CHECK(log.commit() == no_index);
  CHECK(log.maybe_commit(log_index(3), term_id(2)));
  CHECK(log.commit() == log_index(3));
  log.commit_to(log_index(0));  // never backwards: ignored
  CHECK(log.commit() == log_index(3));
}

TEST_CASE("raft_log: conflict search skips whole entries", "[raft]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 4), make(3, 5, 9), make(3, 10, 12)}).ok());
  raft_log log(storage, no_index, no_index);
  CHECK(log.find_conflict_by_term(log_index(12), term_id(2)) == log_index(4));
  CHECK(log.find_conflict_by_term(log_index(12), term_id(3)) == log_index(12));
  CHECK(log.find_conflict_by_term(log_index(3), term_id(0)) == log_index(-1));
}

TEST_CASE("raft_log: a conflicting suffix becomes a pending truncation above commit", "[raft]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 2), make(1, 3, 3)}).ok());
  raft_log log(storage, log_index(0), no_index);
  auto last = log.maybe_append(log_index(0), term_id(1), log_index(1), {make(2, 1, 1)});
  REQUIRE(last);
  CHECK(*last == log_index(1));
  CHECK(log.pending_truncation() == log_index(1));
  CHECK(log.last_index() == log_index(1));
  CHECK(log.commit() == log_index(1));
  // A mismatching prev is rejected without touching anything.
  CHECK_FALSE(log.maybe_append(log_index(1), term_id(1), log_index(1), {}));
}

TEST_CASE("invariant: truncating at or below commit aborts", "[raft][invariant]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 2), make(1, 3, 3)}).ok());
  CHECK(aborts([&] {
    raft_log log(storage, log_index(2), no_index);
    (void)log.maybe_append(log_index(0), term_id(1), log_index(2), {make(2, 1, 1)});
  }));
  // Just above commit is fine.
  CHECK_FALSE(aborts([&] {
    raft_log log(storage, log_index(2), no_index);
    (void)log.maybe_append(log_index(2), term_id(1), log_index(2), {make(2, 3, 3)});
  }));
}

TEST_CASE("invariant: commit cannot pass the end of the log", "[raft][invariant]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0)}).ok());
  CHECK(aborts([&] {
    raft_log log(storage, no_index, no_index);
    log.commit_to(log_index(5));
  }));
}

TEST_CASE("invariant: no other call between ready() and advance()", "[raft][invariant]") {
  memory_log storage;
  options o{.id = node_id(1), .log = &storage, .conf = {.voters = {node_id(1)}}};
  CHECK(aborts([&] {
    auto n = std::move(node::create(o)).value();
    n->campaign();
    ready rd = n->get_ready();
    n->tick();
  }));
}

TEST_CASE("node: one vote per term, also for a follower that already voted", "[raft]") {
  memory_log storage;
  options o{
      .id = node_id(1), .log = &storage, .conf = {.voters = {node_id(1), node_id(2), node_id(3)}}};
  auto n = std::move(node::create(o)).value();
  auto vote_from = [&](uint64_t from) {
    message m{.type = message_type::vote,
              .from = node_id(from),
              .to = node_id(1),
              .term = term_id(1),
              .log_term = term_id(0),
              .index = no_index};
    REQUIRE(n->step(m).ok());
    ready rd = n->get_ready();
    n->advance(rd);
    REQUIRE(rd.messages.size() == 1);
    return !rd.messages[0].reject;
  };
  CHECK(vote_from(2));
  CHECK_FALSE(vote_from(3));
  CHECK(vote_from(2));  // the same candidate may ask again (a lost response)
  CHECK(n->vote() == node_id(2));
}

TEST_CASE("node: an append below commit is answered with the commit, nothing truncated", "[raft]") {
  memory_log storage;
  REQUIRE(storage.append({make(1, 0, 0), make(1, 1, 4)}).ok());
  options o{.id = node_id(2),
            .log = &storage,
            .hard = {.term = term_id(1), .vote = node_id(1), .commit = log_index(4)},
            .conf = {.voters = {node_id(1), node_id(2), node_id(3)}},
            .applied = log_index(4)};
  auto n = std::move(node::create(o)).value();
  message m{.type = message_type::append,
            .from = node_id(1),
            .to = node_id(2),
            .term = term_id(1),
            .log_term = term_id(1),
            .index = log_index(0),
            .entries = {make(1, 1, 2)},
            .commit = log_index(4)};
  REQUIRE(n->step(m).ok());
  ready rd = n->get_ready();
  CHECK_FALSE(rd.truncate_from);
  CHECK(rd.entries.empty());
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].index == log_index(4));
  CHECK_FALSE(rd.messages[0].reject);
  n->advance(rd);
}

TEST_CASE("node: options are checked", "[raft]") {
  memory_log storage;
  CHECK(node::create(options{.id = no_node, .log = &storage}).status().code() ==
        errc::invalid_argument);
  CHECK(node::create(options{.id = node_id(1)}).status().code() == errc::invalid_argument);
  options o{.id = node_id(1), .log = &storage, .hard = {.commit = log_index(3)}};
  CHECK(node::create(o).status().code() == errc::invalid_argument);  // commit past the log
  options both{.id = node_id(1),
               .log = &storage,
               .conf = {.voters = {node_id(1)}, .learners = {node_id(1)}}};
  CHECK(node::create(both).status().code() == errc::invalid_argument);
}

TEST_CASE("node: a single voter commits alone, after persisting", "[raft]") {
  memory_log storage;
  options o{.id = node_id(1), .log = &storage, .conf = {.voters = {node_id(1)}}};
  auto n = std::move(node::create(o)).value();
  n->campaign();
  CHECK(n->role() == role::leader);
  Result<log_index> base = n->propose("batch", 5);
  REQUIRE(base.ok());
  CHECK(*base == log_index(1));
  ready rd = n->get_ready();
  CHECK(rd.entries.size() == 2);
  CHECK(n->log().commit() == no_index);  // not before the leader's own fsync
  REQUIRE(storage.append(rd.entries).ok());
  n->advance(rd);
  CHECK(n->log().commit() == log_index(5));  // the batch's last offset
}

TEST_CASE("config entries round-trip and garbage is refused", "[raft]") {
  config c{.voters = {node_id(1), node_id(2)}, .learners = {node_id(7)}};
  config out;
  REQUIRE(decode_config(encode_config(c), &out));
  CHECK(out == c);
  CHECK_FALSE(decode_config("nonsense", &out));
  std::string bytes = encode_config(c);
  CHECK_FALSE(decode_config(bytes.substr(0, bytes.size() - 1), &out));
}

}  // namespace
}  // namespace kappa::raft
