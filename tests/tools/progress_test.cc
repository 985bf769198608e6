// kappactl's progress text (replay): bar, plain line, summary, ETA and the
// number formats, as pure functions of a snapshot.
//
// tools_tests links no kappactl sources, and the formatter is pure and
// std-only, so its one source file is compiled in here.
#include "tools/kappactl/progress.cc"

#include <catch2/catch.hpp>

namespace kappa::kappactl {
namespace {

TEST_CASE("progress: megabytes and durations", "[kappactl][progress]") {
  CHECK(format_megabytes(0) == "0.0 MB");
  CHECK(format_megabytes(1234567) == "1.2 MB");
  CHECK(format_megabytes(999'999'999) == "1000.0 MB");
  CHECK(format_duration(0.0) == "0:00");
  CHECK(format_duration(7.4) == "0:07");
  CHECK(format_duration(754.0) == "12:34");
  CHECK(format_duration(3723.0) == "1:02:03");
  CHECK(format_duration(std::nullopt) == "--:--");
  CHECK(format_duration(-1.0) == "--:--");
}

TEST_CASE("progress: rate, fraction and ETA from offsets read", "[kappactl][progress]") {
  progress_snapshot s;
  s.total_offsets = 1000;
  CHECK(record_rate(s) == 0);
  CHECK_FALSE(eta_seconds(s).has_value());  // nothing read, no time: unknown
  CHECK(done_fraction(s) == 0);

  s.records = 240;
  s.done_offsets = 250;
  s.elapsed_s = 2;
  CHECK(record_rate(s) == Approx(120));
  CHECK(done_fraction(s) == Approx(0.25));
  REQUIRE(eta_seconds(s).has_value());
  CHECK(*eta_seconds(s) == Approx(6));  // 750 offsets left at 125 offsets/s

  s.done_offsets = 1000;
  CHECK(*eta_seconds(s) == 0);
  CHECK(done_fraction(s) == 1);

  progress_snapshot empty;  // nothing to copy: done at once
  CHECK(done_fraction(empty) == 1);
  CHECK(*eta_seconds(empty) == 0);
}

TEST_CASE("progress: the terminal bar", "[kappactl][progress]") {
  progress_snapshot s{1234, 1'200'000, 450, 1000, 2.0};
  CHECK(format_progress_bar(s, 20) == "[#########...........]  45%  1234 records  1.2 MB  617 rec/s  ETA 0:02");
  s.done_offsets = 1000;
  CHECK(format_progress_bar(s, 4) == "[####] 100%  1234 records  1.2 MB  617 rec/s  ETA 0:00");
  s.done_offsets = 0;
  s.records = 0;
  CHECK(format_progress_bar(s, 4) == "[....]   0%  0 records  1.2 MB  0 rec/s  ETA --:--");
}

TEST_CASE("progress: plain line and summary", "[kappactl][progress]") {
  progress_snapshot s{1234, 1'200'000, 450, 1000, 2.0};
  CHECK(format_progress_line(s) == "progress: 45% 1234 records 1.2 MB 617 records/s ETA 0:02");
  CHECK(format_replay_summary(s, "a", "b") == "replayed 1234 records (1.2 MB) from a to b in 0:02 (617 records/s)");
}

}  // namespace
}  // namespace kappa::kappactl
