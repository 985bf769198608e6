// kappactl replay against a real kappad: exactly the requested range (by
// offset, by time, one partition, --until exclusive) lands in the same
// partitions of the destination with keys, headers and timestamps intact;
// bad input is one clear line and writes nothing.
#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

// "partition|timestamp|key|value|headers" per record, grouped by partition
// (each partition's records stay in offset order).
std::vector<std::string> records_of(const kappad_process& k, const std::string& topic,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"consume", topic, "--format", "%p|%T|%k|%v|%h\\n"};
  args.insert(args.end(), extra.begin(), extra.end());
  run_result r = ctl(k, args);
  INFO("consume " << topic << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  auto out = lines(r.out);
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(0, a.find('|'))) < std::stoi(b.substr(0, b.find('|')));
  });
  return out;
}

// The values only, in order, of one partition.
std::vector<std::string> values_of(const kappad_process& k, const std::string& topic, int partition) {
  run_result r = ctl(k, {"consume", topic, "--partition", std::to_string(partition)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return lines(r.out);
}

std::string numbered(int from, int to, const std::string& prefix) {
  std::string s;
  for (int i = from; i < to; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

std::vector<std::string> numbered_list(int from, int to, const std::string& prefix) {
  return lines(numbered(from, to, prefix));
}

void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST_CASE("replay copies a whole topic: partitions, keys, headers and timestamps kept", "[kappactl][replay]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "src", "--partitions", "3"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "dst", "--partitions", "4"}).exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src", "--key-separator", ":", "--header", "h=1", "--header", "src=test"},
              "alice:a1\nbob:b1\ncarol:c1\nalice:a2\ndave:d1\nerin:e1\n")
              .exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "1"}, "no-key-1\nno-key-2\n").exit_code == 0);
  const auto source = records_of(k, "src");
  REQUIRE(source.size() == 8);
  pause_ms(30);  // a copy stamped with the time of replay would differ

  run_result r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", "0"});
  INFO(r.err << k.log());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("replayed 8 records") != std::string::npos);
  CHECK(records_of(k, "dst") == source);
  // Replaying again copies the same range again: nothing deduplicates it.
  REQUIRE(ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", "0"}).exit_code == 0);
  CHECK(records_of(k, "dst").size() == 16);
}

TEST_CASE("replay of an offset range of one partition, --until exclusive", "[kappactl][replay]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "src", "--partitions", "2"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "dst", "--partitions", "2"}).exit_code == 0);
  // Record i of partition 0 is at offset base + i (past the leader's control batch).
  const int64_t base = latest_offsets(k, "src").at(0);
  auto at = [&](int64_t i) { return std::to_string(base + i); };
  REQUIRE(ctl(k, {"produce", "src", "--partition", "0"}, numbered(0, 10, "p0-")).exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "1"}, numbered(0, 10, "p1-")).exit_code == 0);

  run_result r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", at(2), "--until",
                         at(6), "--partition", "0"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("replayed 4 records") != std::string::npos);
  CHECK(values_of(k, "dst", 0) == numbered_list(2, 6, "p0-"));
  CHECK(values_of(k, "dst", 1).empty());

  // --until past the high watermark stops at it; every partition from the
  // same offset.
  r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", at(8), "--until", "1000000"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto expected0 = numbered_list(2, 6, "p0-");
  for (const auto& v : numbered_list(8, 10, "p0-")) expected0.push_back(v);
  CHECK(values_of(k, "dst", 0) == expected0);
  const int64_t base1 = latest_offsets(k, "src").at(1) - 10;
  CHECK(values_of(k, "dst", 1) == numbered_list(static_cast<int>(base + 8 - base1), 10, "p1-"));
}

TEST_CASE("replay of a time range: records from --from up to --until", "[kappactl][replay]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "src", "--partitions", "2"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "dst", "--partitions", "2"}).exit_code == 0);
  pause_ms(50);  // past the control batches' timestamps
  REQUIRE(ctl(k, {"produce", "src", "--partition", "0"}, numbered(0, 5, "old-")).exit_code == 0);
  pause_ms(50);
  const std::string t1 = iso_now();
  pause_ms(50);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "0"}, numbered(0, 4, "mid-")).exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "1"}, numbered(0, 3, "mid1-")).exit_code == 0);
  pause_ms(50);
  const std::string t2 = iso_now();
  pause_ms(50);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "0"}, numbered(0, 3, "new-")).exit_code == 0);

  run_result r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", t1, "--until", t2});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("replayed 7 records") != std::string::npos);
  CHECK(values_of(k, "dst", 0) == numbered_list(0, 4, "mid-"));
  CHECK(values_of(k, "dst", 1) == numbered_list(0, 3, "mid1-"));
  // The copies keep the source's timestamps, so the same time range of the
  // destination is exactly what was copied.
  std::vector<std::string> copied;
  for (const std::string& rec : records_of(k, "src", {"--from", t1})) {
    if (rec.find("|mid") != std::string::npos) copied.push_back(rec);
  }
  REQUIRE(copied.size() == 7);
  CHECK(records_of(k, "dst") == copied);

  // Without --until: up to the high watermark as of start.
  r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", t2, "--partition", "0"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto expected = numbered_list(0, 4, "mid-");
  for (const auto& v : numbered_list(0, 3, "new-")) expected.push_back(v);
  CHECK(values_of(k, "dst", 0) == expected);
}

TEST_CASE("replay paces --rate and prints plain progress lines off a terminal", "[kappactl][replay]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "src", "--partitions", "1"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "dst", "--partitions", "1"}).exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src"}, numbered(0, 30, "r")).exit_code == 0);
  const auto start = std::chrono::steady_clock::now();
  run_result r = ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", "0", "--rate", "20"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Record 29 may leave no earlier than 29/20 s after the start.
  CHECK(elapsed >= std::chrono::milliseconds(1400));
  CHECK(r.err.find("progress: ") != std::string::npos);
  CHECK(r.err.find("\x1b[") == std::string::npos);  // no terminal control codes in a file
  CHECK(r.err.find("replayed 30 records") != std::string::npos);
  CHECK(values_of(k, "dst", 0) == numbered_list(0, 30, "r"));
}

TEST_CASE("replay refuses bad input with one line and writes nothing", "[kappactl][replay][errors]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "src", "--partitions", "3"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "dst", "--partitions", "3"}).exit_code == 0);
  REQUIRE(ctl(k, {"topic", "create", "narrow", "--partitions", "2"}).exit_code == 0);
  REQUIRE(ctl(k, {"produce", "src", "--partition", "0"}, numbered(0, 5, "r")).exit_code == 0);
  const int64_t end0 = latest_offsets(k, "src").at(0);

  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<bad_case> cases{
      {{"--from-topic", "nope", "--to-topic", "dst", "--from", "0"}, "nope"},
      {{"--from-topic", "src", "--to-topic", "nope", "--from", "0"}, "nope"},
      {{"--from-topic", "src", "--to-topic", "narrow", "--from", "0"}, "fewer than the 3"},
      {{"--from-topic", "src", "--to-topic", "src", "--from", "0"}, "must differ"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "2099-01-01T00:00:00Z"}, "in the future"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", std::to_string(end0 + 100)}, "past the end"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "3", "--until", "2"}, "must be after"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "3", "--until", "3"}, "must be after"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "2020-01-01T10:00:00Z", "--until",
        "2020-01-01T09:00:00Z"},
       "must be after"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "yesterday"}, "ISO-8601"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "-1"}, ">= 0"},
      {{"--from-topic", "src", "--to-topic", "dst", "--from", "0", "--partition", "7"}, "no partition 7"},
      {{"--from-topic", "src", "--to-topic", "narrow", "--from", "0", "--partition", "2"}, "no partition 2"},
  };
  for (const bad_case& c : cases) {
    std::vector<std::string> args{"replay"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    run_result r = ctl(k, args);
    INFO(args[1] << " " << args[2] << " " << args[3] << " " << args[4] << " " << args[5] << " " << args[6]
                 << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  // Usage errors are exit code 3.
  CHECK(ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst"}).exit_code == 3);
  CHECK(ctl(k, {"replay", "--from-topic", "src", "--to-topic", "dst", "--from", "0", "--rate", "0"}).exit_code ==
        3);
  CHECK(records_of(k, "dst").empty());
  CHECK(records_of(k, "narrow").empty());
  CHECK(values_of(k, "src", 0) == numbered_list(0, 5, "r"));
}

}  // namespace
}  // namespace kappa::tools_test
