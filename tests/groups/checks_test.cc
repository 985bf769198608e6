// The log checks of the group process tests, on hand-written member logs:
// each property must hold on a correct history and be caught on a broken one,
// or the process tests prove nothing.
#include <catch2/catch.hpp>

#include "tests/groups/group_checks.h"

namespace kappa_groups {
namespace {

member_history history(const std::string& name, const std::string& text, int64_t killed_at = -1) {
  return {parse_member_log(text, name), killed_at};
}

}  // namespace

TEST_CASE("member log lines parse back into events", "[groups][checks]") {
  auto log = parse_member_log(
      "START 1 42\n"
      "MEMBER 2 abc-1 3\n"
      "ASSIGNED 3 t:0@5 my.topic-x:12@-1\n"
      "BATCH 4 2\n"
      "R 5 t 0 5\n"
      "COMMIT_BEGIN 6 1 t:0=6 my.topic-x:12=0\n"
      "COMMIT_FAIL 7 1 25 unknown member id: gone\n"
      "REVOKED 8 t:0\n"
      "EXIT 9 0\n"
      "R 10 t 0\n",
      "m");
  REQUIRE(log.events.size() == 9);
  REQUIRE(log.bad_lines.size() == 1);  // a torn line (SIGKILL mid-write)
  CHECK(log.events[1].member_id == "abc-1");
  CHECK(log.events[1].epoch == 3);
  REQUIRE(log.events[2].partitions.size() == 2);
  CHECK(log.events[2].partitions[1] == kappa::topic_partition{"my.topic-x", 12});
  CHECK(log.events[2].positions == std::vector<int64_t>{5, -1});
  CHECK(log.events[4].offset == 5);
  CHECK(log.events[5].offsets.at({"t", 0}) == 6);
  CHECK(log.events[6].code == 25);
  CHECK(log.events[6].message == "unknown member id: gone");
  CHECK(log.events[8].kind == event_kind::exit);
}

TEST_CASE("a clean handoff passes every check", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a",
              "ASSIGNED 10 t:0@0\nR 11 t 0 0\nR 12 t 0 1\nCOMMIT_BEGIN 13 1 t:0=2\nCOMMIT_OK 14 1\n"
              "R 15 t 0 2\nCOMMIT_BEGIN 16 2 t:0=3\nCOMMIT_OK 17 2\nREVOKED 18 t:0\nEXIT 19 0\n"),
      history("b", "ASSIGNED 20 t:0@3\nR 21 t 0 3\nR 22 t 0 4\n"),
  };
  std::vector<std::string> problems;
  auto iv = ownership_intervals(members, 100, problems);
  CHECK(problems.empty());
  REQUIRE(iv[{"t", 0}].size() == 2);
  CHECK(iv[{"t", 0}][1].end_ns == 100);  // b still runs
  CHECK(check_single_owner(iv).empty());
  CHECK(check_records_owned(members, iv).empty());
  CHECK(check_nothing_skipped(members, {{{"t", 0}, {0, 1, 2, 3, 4}}}).empty());
  CHECK(check_duplicates_uncommitted(members, iv).empty());
  CHECK(count_duplicates(members) == 0);
  CHECK(committed_offsets(members, 100).at({"t", 0}) == 3);
}

TEST_CASE("two owners at once are caught", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a", "ASSIGNED 10 t:0@0\nR 11 t 0 0\nREVOKED 30 t:0\n"),
      history("b", "ASSIGNED 20 t:0@0\nR 21 t 0 0\n"),
  };
  std::vector<std::string> problems;
  auto iv = ownership_intervals(members, 100, problems);
  CHECK(check_single_owner(iv).size() == 1);
}

TEST_CASE("a killed member owns until its kill and not until the end", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a", "ASSIGNED 10 t:0@0\nR 11 t 0 0\n", /*killed_at=*/15),
      history("b", "ASSIGNED 20 t:0@0\nR 21 t 0 0\n"),
  };
  std::vector<std::string> problems;
  auto iv = ownership_intervals(members, 100, problems);
  CHECK(check_single_owner(iv).empty());
  // Record 0 again: allowed, nothing was committed (the uncommitted window).
  CHECK(check_duplicates_uncommitted(members, iv).empty());
  CHECK(count_duplicates(members) == 1);
}

TEST_CASE("processing outside an ownership or backwards is caught", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a", "ASSIGNED 10 t:0@0\nR 11 t 0 0\nR 12 t 0 5\nR 13 t 0 4\nREVOKED 14 t:0\nR 15 t 0 6\n"),
  };
  std::vector<std::string> problems;
  auto iv = ownership_intervals(members, 100, problems);
  CHECK(check_records_owned(members, iv).size() == 2);
}

TEST_CASE("a skipped record and a rewind past a commit are caught", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a", "ASSIGNED 10 t:0@0\nR 11 t 0 0\nR 12 t 0 1\nCOMMIT_BEGIN 13 1 t:0=2\nCOMMIT_OK 14 1\nREVOKED 15 t:0\n"),
      history("b", "ASSIGNED 20 t:0@1\nR 21 t 0 1\nR 22 t 0 3\n"),
  };
  std::vector<std::string> problems;
  auto iv = ownership_intervals(members, 100, problems);
  CHECK(check_nothing_skipped(members, {{{"t", 0}, {0, 1, 2, 3}}}).size() == 1);
  CHECK(check_duplicates_uncommitted(members, iv).size() == 1);
}

TEST_CASE("inconsistent logs are reported", "[groups][checks]") {
  std::vector<member_history> members = {
      history("a", "ASSIGNED 10 t:0@0\nASSIGNED 11 t:0@0\nREVOKED 12 t:1\n"),
  };
  std::vector<std::string> problems;
  ownership_intervals(members, 100, problems);
  CHECK(problems.size() == 2);
}

}  // namespace kappa_groups
