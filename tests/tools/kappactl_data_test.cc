// kappactl produce, consume, offsets and delete-records against a real
// kappad: keys, headers, format strings, start positions, and every line
// acknowledged before a zero exit.
#include <catch2/catch.hpp>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

std::string numbered_lines(int from, int to, const std::string& prefix) {
  std::string s;
  for (int i = from; i < to; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

TEST_CASE("produce then consume round trip with keys, headers and a format string",
          "[kappactl][data]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "events", "--partitions", "3"}).exit_code == 0);
  std::vector<int64_t> next = latest_offsets(k, "events");
  REQUIRE(next.size() == 3);
  run_result r = ctl(k,
                     {"produce", "events", "--key-separator", ":", "--header", "src=test",
                      "--header", "v=1", "--verbose"},
                     "k1:hello\nk2:world\nk1:again\nnokey\n");
  INFO(r.err << k.log());
  REQUIRE(r.exit_code == 0);
  auto acks = lines(r.out);
  REQUIRE(acks.size() == 4);
  for (const std::string& a : acks) CHECK(a.rfind("partition ", 0) == 0);
  // Same key, same partition; the second k1 record comes after the first.
  CHECK(acks[0].substr(0, acks[0].find(" offset")) == acks[2].substr(0, acks[2].find(" offset")));

  r = ctl(k, {"consume", "events", "--from", "beginning", "--format", "%k=%v|%h|%t\\n"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto got = lines(r.out);
  std::sort(got.begin(), got.end());
  CHECK(got ==
        std::vector<std::string>{"=nokey|src=test,v=1|events", "k1=again|src=test,v=1|events",
                                 "k1=hello|src=test,v=1|events", "k2=world|src=test,v=1|events"});

  // One partition, with offsets and lengths; records of a partition in order.
  // The first record gets the partition's log end before the produce (past
  // its leader's control batch); the acks name the same offsets.
  std::string p = acks[0].substr(10, acks[0].find(" offset") - 10);
  int64_t first = next.at(std::stoul(p));
  CHECK(acks[0] == "partition " + p + " offset " + std::to_string(first));
  CHECK(acks[2] == "partition " + p + " offset " + std::to_string(first + 1));
  r = ctl(k, {"consume", "events", "--partition", p, "--format", "%p %o %K %S %v\\t%T\\n"});
  REQUIRE(r.exit_code == 0);
  auto part = lines(r.out);
  REQUIRE(part.size() >= 2);
  CHECK(part[0].rfind(p + " " + std::to_string(first) + " 2 5 hello\t", 0) == 0);
  CHECK(part[1].rfind(p + " " + std::to_string(first + 1) + " 2 5 again\t", 0) == 0);

  // Default format is the value and a newline; --count stops early.
  r = ctl(k, {"consume", "events", "--count", "2"});
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.out).size() == 2);
}

TEST_CASE("consume --from an offset, the end, -N and a time", "[kappactl][data]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "log", "--partitions", "1"}).exit_code == 0);
  // Record i is at offset base + i (the log starts with a control batch).
  const int64_t base = latest_offsets(k, "log").at(0);
  auto at = [&](int64_t i) { return std::to_string(base + i); };
  REQUIRE(ctl(k, {"produce", "log"}, numbered_lines(0, 10, "old-")).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string between = iso_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(ctl(k, {"produce", "log", "--acks", "1"}, numbered_lines(10, 15, "new-")).exit_code == 0);

  run_result r = ctl(k, {"consume", "log", "--from", at(7)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "old-7\nold-8\nold-9\nnew-10\nnew-11\nnew-12\nnew-13\nnew-14\n");

  r = ctl(k, {"consume", "log", "--from", between});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == numbered_lines(10, 15, "new-"));

  r = ctl(k, {"consume", "log", "--from", "-2"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "new-13\nnew-14\n");

  r = ctl(k, {"consume", "log", "--from", "end"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());

  // --follow waits for records produced after it started (from record 15,
  // the end, so a slow start cannot miss them).
  REQUIRE(latest_offsets(k, "log").at(0) == base + 15);
  temp_dir io;
  pid_t follower = spawn({kKappactl, "consume", "log", "--from", at(15), "--follow", "--count", "2",
                          "--bootstrap", k.address()},
                         "", io / "out", io / "err");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  REQUIRE(ctl(k, {"produce", "log"}, "live-1\nlive-2\n").exit_code == 0);
  CHECK(wait_bounded(follower, 60) == 0);
  CHECK(read_file(io / "out") == "live-1\nlive-2\n");
}

TEST_CASE("offsets per partition, at a time, and delete-records", "[kappactl][data]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "o", "--partitions", "2"}).exit_code == 0);
  // A new partition holds only its leader's control batch: a log end past
  // 0, yet nothing to consume.
  const std::vector<int64_t> base = latest_offsets(k, "o");
  REQUIRE(base.size() == 2);
  const std::string end0 = std::to_string(base[0]);
  auto at1 = [&](int64_t i) { return std::to_string(base[1] + i); };
  run_result r = ctl(k, {"consume", "o", "--from", "beginning"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  // After the control batch's timestamp, so the time lookup lands on a record.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string before = iso_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(ctl(k, {"produce", "o", "--partition", "1"}, numbered_lines(0, 6, "r")).exit_code == 0);

  r = ctl(k, {"offsets", "o"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "partition 0  earliest 0  latest " + end0 + "\npartition 1  earliest 0  latest " +
                     at1(6) + "\n");
  r = ctl(k, {"offsets", "o", "--output", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "{\"topic\":\"o\",\"partitions\":[{\"partition\":0,\"earliest\":0,\"latest\":" +
                     end0 + "},{\"partition\":1,\"earliest\":0,\"latest\":" + at1(6) + "}]}\n");
  r = ctl(k, {"offsets", "o", "--time", before});
  REQUIRE(r.exit_code == 0);
  auto at = lines(r.out);
  REQUIRE(at.size() == 2);
  CHECK(at[1].rfind("partition 1  offset " + at1(0) + "  timestamp ", 0) == 0);
  // Epoch milliseconds work too; past the last record it is the log end.
  r = ctl(k, {"offsets", "o", "--time", "4102444800000"});
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.out)[1] == "partition 1  offset " + at1(6) + "  timestamp -1");

  // A zone offset is the same instant as its UTC spelling.
  CHECK(ctl(k, {"offsets", "o", "--time", "2026-11-22T11:00:00.5+01:00"}).out ==
        ctl(k, {"offsets", "o", "--time", "2026-11-22T10:00:00.500Z"}).out);
  r = ctl(k, {"offsets", "o", "--time", "2026-13-01T00:00:00Z"});
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);

  r = ctl(k, {"delete-records", "o", "--partition", "1", "--before", at1(4)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "partition 1  log start offset " + at1(4) + "\n");
  CHECK(lines(ctl(k, {"offsets", "o"}).out)[1] ==
        "partition 1  earliest " + at1(4) + "  latest " + at1(6));
  CHECK(ctl(k, {"consume", "o", "--from", "beginning"}).out == "r4\nr5\n");
  r = ctl(k, {"delete-records", "o", "--partition", "1", "--before", at1(99)});
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err).size() == 1);
}

TEST_CASE("produce at acks 0, 1 and all; a large input is all acknowledged", "[kappactl][data]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "bulk", "--partitions", "2"}).exit_code == 0);
  // Offsets taken by the leaders' control batches are not records produced.
  int64_t control = 0;
  for (int64_t end : latest_offsets(k, "bulk")) control += end;
  for (const char* acks : {"0", "1", "all"}) {
    INFO(acks);
    CHECK(ctl(k, {"produce", "bulk", "--acks", acks}, numbered_lines(0, 5000, "line-")).exit_code ==
          0);
  }
  run_result r = ctl(k, {"offsets", "bulk", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  std::string parts = json_field(r.out, "partitions");
  // acks 1 and all: 10,000 acknowledged; acks 0 only waited for the
  // transport, so its records are not counted on.
  int64_t total = -control;
  for (size_t at = 0; (at = parts.find("\"latest\":", at)) != std::string::npos; at += 9) {
    total += std::stoll(parts.substr(at + 9));
  }
  CHECK(total >= 10000);
  CHECK(total <= 15000);
}

TEST_CASE("produce exits non-zero with one line when a record is refused",
          "[kappactl][data][errors]") {
  kappad_process k;
  REQUIRE(ctl(k, {"topic", "create", "small", "--partitions", "1", "--config",
                  "max.message.bytes=1024"})
              .exit_code == 0);
  run_result r = ctl(k, {"produce", "small"}, "short\n" + std::string(4000, 'x') + "\n");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  REQUIRE(lines(r.err).size() == 1);
  CHECK(r.err.find("not acknowledged") != std::string::npos);
  // Both lines went in one batch, which the broker refused whole.
  CHECK(r.err.find("too large") != std::string::npos);
}

}  // namespace
}  // namespace kappa::tools_test
