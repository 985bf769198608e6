// The reset-offsets planner of kappactl (tools/kappactl/reset_plan.h):
// every mode, clamping to [log start, high watermark], its input parsers
// and their errors. Pure: no broker.
#include <catch2/catch.hpp>

#include "tools/kappactl/reset_plan.h"

namespace kappa::kappactl {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // ms since the epoch

// t-0: log [10, 100), committed 50; t-1: log [0, 20), nothing committed.
std::vector<partition_state> two_partitions() {
  return {{{"t", 0}, 50, 10, 100, 60}, {{"t", 1}, -1, 0, 20, -1}};
}

reset_spec spec_of(const reset_flags& f) {
  auto s = make_reset_spec(f, kNow);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

std::vector<planned_reset> plan_of(const reset_flags& f,
                                   const std::vector<partition_state>& parts = two_partitions()) {
  auto p = plan_resets(spec_of(f), parts);
  INFO(p.status().message());
  REQUIRE(p.ok());
  return *p;
}

}  // namespace

TEST_CASE("reset plan: to-earliest and to-latest take the log bounds", "[reset_plan]") {
  reset_flags f;
  f.to_earliest = true;
  auto plan = plan_of(f);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].tp == topic_partition{"t", 0});
  CHECK(plan[0].current == 50);
  CHECK(plan[0].target == 10);
  CHECK(plan[0].note.empty());
  CHECK(plan[1].current == -1);
  CHECK(plan[1].target == 0);

  reset_flags l;
  l.to_latest = true;
  plan = plan_of(l);
  CHECK(plan[0].target == 100);
  CHECK(plan[1].target == 20);
}

TEST_CASE("reset plan: to-offset is clamped to the log start and the high watermark, with a note",
          "[reset_plan]") {
  reset_flags f;
  f.to_offset = 15;
  auto plan = plan_of(f);
  CHECK(plan[0].target == 15);
  CHECK(plan[0].note.empty());
  // t-1 ends at 20: 15 fits.
  CHECK(plan[1].target == 15);

  f.to_offset = 5;
  plan = plan_of(f);
  CHECK(plan[0].requested == 5);
  CHECK(plan[0].target == 10);
  CHECK(plan[0].note.find("below the log start offset 10") != std::string::npos);
  CHECK(plan[1].target == 5);

  f.to_offset = 1000;
  plan = plan_of(f);
  CHECK(plan[0].target == 100);
  CHECK(plan[0].note.find("above the high watermark 100") != std::string::npos);
  CHECK(plan[1].target == 20);

  f.to_offset = -1;
  auto bad = make_reset_spec(f, kNow);
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find(">= 0") != std::string::npos);
}

TEST_CASE("reset plan: shift-by moves from the committed offset, clamped; refused without a commit",
          "[reset_plan]") {
  std::vector<partition_state> parts{{{"t", 0}, 50, 10, 100, -1}};
  reset_flags f;
  f.shift_by = -5;
  CHECK(plan_of(f, parts)[0].target == 45);
  f.shift_by = 20;
  CHECK(plan_of(f, parts)[0].target == 70);
  f.shift_by = -100;
  auto plan = plan_of(f, parts);
  CHECK(plan[0].requested == -50);
  CHECK(plan[0].target == 10);
  CHECK(!plan[0].note.empty());
  f.shift_by = INT64_MAX;  // saturates instead of overflowing
  CHECK(plan_of(f, parts)[0].target == 100);

  f.shift_by = 1;
  auto refused = plan_resets(spec_of(f), two_partitions());
  REQUIRE(!refused.ok());
  CHECK(refused.status().message().find("t-1 has no committed offset") != std::string::npos);
}

TEST_CASE("reset plan: to-datetime takes the offset at that time, the end when none is that recent",
          "[reset_plan]") {
  reset_flags f;
  f.to_datetime_ms = kNow - 3600'000;
  reset_spec spec = spec_of(f);
  CHECK(spec.mode == reset_mode::to_datetime);
  CHECK(spec.timestamp_ms == kNow - 3600'000);
  auto plan = plan_of(f);
  CHECK(plan[0].target == 60);
  CHECK(plan[1].target == 20);  // offset_at_time -1: the high watermark
  f.to_datetime_ms = kNow;      // now itself is not the future
  CHECK(make_reset_spec(f, kNow).ok());
}

TEST_CASE("reset plan: a datetime in the future is an error", "[reset_plan]") {
  reset_flags f;
  f.to_datetime_ms = kNow + 60'000;
  auto s = make_reset_spec(f, kNow);
  REQUIRE(!s.ok());
  CHECK(s.status().code() == make_error_code(client_errc::invalid_argument));
  CHECK(s.status().message().find("in the future") != std::string::npos);
}

TEST_CASE("reset plan: by-duration reaches back from now", "[reset_plan]") {
  reset_flags f;
  f.by_duration = "PT1H";
  reset_spec spec = spec_of(f);
  CHECK(spec.mode == reset_mode::by_duration);
  CHECK(spec.timestamp_ms == kNow - 3600'000);
  CHECK(plan_of(f)[0].target == 60);
  f.by_duration = "P1x";
  CHECK(!make_reset_spec(f, kNow).ok());
}

TEST_CASE("reset plan: ISO-8601 durations", "[reset_plan]") {
  auto ms = [](const std::string& s) {
    auto r = parse_iso8601_duration_ms(s);
    INFO(s << ": " << r.status().message());
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(ms("PT1H") == 3'600'000);
  CHECK(ms("PT30M") == 1'800'000);
  CHECK(ms("P1D") == 86'400'000);
  CHECK(ms("P1W") == 7 * 86'400'000LL);
  CHECK(ms("P1DT12H") == 86'400'000 + 12 * 3'600'000);
  CHECK(ms("PT1H30M15S") == 3'600'000 + 1'800'000 + 15'000);
  CHECK(ms("PT1.5S") == 1'500);
  CHECK(ms("pt2m") == 120'000);
  CHECK(ms("PT0.001S") == 1);
  for (const char* bad :
       {"", "P", "PT", "1H", "PT1", "P1H", "PT1D", "P1M", "P1Y", "PT1H1H", "PT1M1H", "PT-1H",
        "PT1.5H", "P1DT", "PT0S", "PTH", "PT1.S", "PT1H ", "P1234567890D"}) {
    INFO(bad);
    CHECK(!parse_iso8601_duration_ms(bad).ok());
  }
}

TEST_CASE("reset plan: exactly one mode", "[reset_plan]") {
  reset_flags none;
  auto s = make_reset_spec(none, kNow);
  REQUIRE(!s.ok());
  CHECK(s.status().message().find("none was given") != std::string::npos);

  reset_flags two;
  two.to_earliest = true;
  two.shift_by = 3;
  s = make_reset_spec(two, kNow);
  REQUIRE(!s.ok());
  CHECK(s.status().message().find("--to-earliest and --shift-by") != std::string::npos);
}

TEST_CASE("reset plan: from-file takes Kafka's topic,partition,offset lines", "[reset_plan]") {
  auto parsed = parse_reset_csv("t,0,42\r\n\n  t , 1 , 7 \nu,3,0");
  INFO(parsed.status().message());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 3);
  CHECK(parsed->at({"t", 0}) == 42);
  CHECK(parsed->at({"t", 1}) == 7);
  CHECK(parsed->at({"u", 3}) == 0);

  reset_flags f;
  f.from_file_csv = "t,1,500\nt,0,42\n";
  auto plan = plan_of(f);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].tp == topic_partition{"t", 0});
  CHECK(plan[0].target == 42);
  CHECK(plan[1].target == 20);  // clamped to t-1's high watermark
  CHECK(!plan[1].note.empty());

  // Only the file's partitions are planned.
  f.from_file_csv = "t,1,3\n";
  plan = plan_of(f);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].tp == topic_partition{"t", 1});

  f.from_file_csv = "t,9,3\n";
  auto unknown = plan_resets(spec_of(f), two_partitions());
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().code() == make_error_code(client_errc::unknown_topic_or_partition));
  CHECK(unknown.status().message().find("t-9") != std::string::npos);
}

TEST_CASE("reset plan: a malformed CSV names its line", "[reset_plan]") {
  struct bad_case {
    const char* text;
    const char* needle;
  };
  for (const bad_case& c : std::vector<bad_case>{{"t,0,1\nt,0\n", "line 2"},
                                                 {"t,0,1\n\nt,x,1\n", "line 3"},
                                                 {"t,0,-5\n", "line 1"},
                                                 {"t,0,1,2\n", "4 fields"},
                                                 {",0,1\n", "empty topic"},
                                                 {"t,0,1\nt,0,2\n", "appears twice"},
                                                 {"t,0,abc\n", "offset 'abc'"},
                                                 {"\n \n", "no topic,partition,offset line"}}) {
    auto r = parse_reset_csv(c.text);
    INFO(c.text);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == make_error_code(client_errc::invalid_argument));
    CHECK(r.status().message().find(c.needle) != std::string::npos);
  }
  reset_flags f;
  f.from_file_csv = "t,0,1\nbroken\n";
  auto s = make_reset_spec(f, kNow);
  REQUIRE(!s.ok());
  CHECK(s.status().message().find("line 2") != std::string::npos);
}

TEST_CASE("reset plan: topic selections and their expansion", "[reset_plan]") {
  auto all = parse_topic_selection("orders");
  REQUIRE(all.ok());
  CHECK(all->topic == "orders");
  CHECK(all->partitions.empty());
  auto some = parse_topic_selection("orders:2,0");
  REQUIRE(some.ok());
  CHECK(some->partitions == std::vector<int32_t>{2, 0});
  CHECK(!parse_topic_selection(":1").ok());
  CHECK(!parse_topic_selection("t:").ok());
  CHECK(!parse_topic_selection("t:1,,2").ok());
  CHECK(!parse_topic_selection("t:-1").ok());

  std::map<std::string, std::vector<int32_t>> existing{{"orders", {0, 1, 2}}, {"x", {0}}};
  auto tps = expand_selections({*some, {"x", {}}, {"orders", {0}}}, existing);
  REQUIRE(tps.ok());
  CHECK(*tps == std::vector<topic_partition>{{"orders", 0}, {"orders", 2}, {"x", 0}});

  auto no_topic = expand_selections({{"nope", {}}}, existing);
  REQUIRE(!no_topic.ok());
  CHECK(no_topic.status().code() == make_error_code(client_errc::unknown_topic_or_partition));
  auto no_partition = expand_selections({{"orders", {7}}}, existing);
  REQUIRE(!no_partition.ok());
  CHECK(no_partition.status().message().find("no partition 7") != std::string::npos);
}

}  // namespace kappa::kappactl
