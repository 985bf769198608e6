// kappactl group list/describe/reset-offsets/delete/delete-offsets and
// consume --group against a real kappad (its group coordinator): every
// reset mode, lag = high watermark - committed, a reset refused while the
// group has members, and bad input refused with nothing changed.
#include <catch2/catch.hpp>

#include <map>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

struct offset_row {
  int64_t committed = -1;
  int64_t high_watermark = -1;
  int64_t lag = -1;
  std::string owner;
};

struct group_view {
  std::string state;
  int members = 0;
  std::map<int32_t, offset_row> offsets;  // topic "t"'s partitions (tests use one topic)
  std::string json;
};

// `group describe G --output json`, parsed.
group_view describe(const kappad_process& k, const std::string& group) {
  run_result r = ctl(k, {"group", "describe", group, "--output", "json"});
  INFO("describe " << group << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  group_view v;
  v.json = r.out;
  v.state = json_field(r.out, "state");
  const size_t offsets_at = r.out.find("\"offsets\":[");
  REQUIRE(offsets_at != std::string::npos);
  const std::string members = r.out.substr(0, offsets_at);
  for (size_t at = members.find("\"member_id\":"); at != std::string::npos;
       at = members.find("\"member_id\":", at + 1)) {
    ++v.members;
  }
  const std::string needle = "{\"topic\":";
  for (size_t at = r.out.find(needle, offsets_at); at != std::string::npos;
       at = r.out.find(needle, at + 1)) {
    std::string object = r.out.substr(at + 1, r.out.find('}', at) - at - 1);
    offset_row row;
    row.committed = std::stoll(json_field(object, "committed_offset"));
    row.high_watermark = std::stoll(json_field(object, "high_watermark"));
    row.lag = std::stoll(json_field(object, "lag"));
    row.owner = json_field(object, "owner_member_id");
    v.offsets[static_cast<int32_t>(std::stoi(json_field(object, "partition")))] = row;
  }
  return v;
}

std::string records(int n, const std::string& prefix) {
  std::string s;
  for (int i = 0; i < n; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

// Topic "t" with `partitions` partitions and `per_partition` records in each.
// Returns each partition's first record offset (past the leader's control
// batch).
std::vector<int64_t> make_topic(const kappad_process& k, int partitions, int per_partition) {
  REQUIRE(ctl(k, {"topic", "create", "t", "--partitions", std::to_string(partitions)}).exit_code ==
          0);
  std::vector<int64_t> base = latest_offsets(k, "t");
  for (int p = 0; p < partitions; ++p) {
    run_result r =
        ctl(k, {"produce", "t", "--partition", std::to_string(p)}, records(per_partition, "r"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  return base;
}

run_result reset(const kappad_process& k, std::vector<std::string> args) {
  args.insert(args.begin(), {"group", "reset-offsets"});
  return ctl(k, args);
}

void check_lag(const group_view& v) {
  for (const auto& [p, row] : v.offsets) {
    INFO("partition " << p << " of " << v.json);
    REQUIRE(row.high_watermark >= 0);
    if (row.committed >= 0) CHECK(row.lag == row.high_watermark - row.committed);
  }
}

}  // namespace

TEST_CASE("group reset-offsets: every mode, dry run by default, clamped, lag in describe",
          "[kappactl][group]") {
  kappad_process k;
  const std::vector<int64_t> base = make_topic(k, 2, 10);
  const std::vector<int64_t> hw = latest_offsets(k, "t");
  REQUIRE(hw[0] == base[0] + 10);

  // A group that does not exist yet: the plan is shown, nothing changes.
  run_result r = reset(k, {"g", "--topic", "t", "--to-earliest"});
  INFO(r.out << r.err << k.log());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("dry run") != std::string::npos);
  CHECK(ctl(k, {"group", "describe", "g"}).exit_code == 1);

  // --execute creates it with the planned offsets.
  r = reset(k, {"g", "--topic", "t", "--to-earliest", "--execute"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  group_view v = describe(k, "g");
  CHECK(v.members == 0);
  REQUIRE(v.offsets.size() == 2);
  for (int p = 0; p < 2; ++p) {
    CHECK(v.offsets[p].committed <= base[p]);
    CHECK(v.offsets[p].high_watermark == hw[p]);
  }
  check_lag(v);

  run_result list = ctl(k, {"group", "list", "--output", "json"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("{\"group_id\":\"g\",\"state\":\"Empty\",\"members\":0") !=
        std::string::npos);
  list = ctl(k, {"group", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("GROUP") == 0);

  // --to-offset on one partition only.
  r = reset(k, {"g", "--topic", "t:0", "--to-offset", std::to_string(base[0] + 3), "--execute"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == base[0] + 3);
  CHECK(v.offsets[0].lag == 7);
  check_lag(v);

  // --shift-by, back and (clamped) forward.
  REQUIRE(reset(k, {"g", "--topic", "t:0", "--shift-by", "-1", "--execute"}).exit_code == 0);
  CHECK(describe(k, "g").offsets[0].committed == base[0] + 2);
  r = reset(k, {"g", "--topic", "t:0", "--shift-by", "1000", "--execute"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("above the high watermark") != std::string::npos);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == hw[0]);
  CHECK(v.offsets[0].lag == 0);

  // --to-offset below the log start is clamped up to it.
  r = reset(k, {"g", "--topic", "t:1", "--to-offset", "0", "--execute", "--output", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(json_field(r.out, "executed") == "true");
  const int64_t start1 = describe(k, "g").offsets[1].committed;
  CHECK(start1 >= 0);
  CHECK(start1 <= base[1]);

  // --to-latest.
  REQUIRE(reset(k, {"g", "--topic", "t", "--to-latest", "--execute"}).exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == hw[0]);
  CHECK(v.offsets[1].committed == hw[1]);
  CHECK(v.offsets[1].lag == 0);

  // --to-datetime: records produced after a moment.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::string between = iso_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(ctl(k, {"produce", "t", "--partition", "0"}, records(5, "late")).exit_code == 0);
  REQUIRE(reset(k, {"g", "--topic", "t", "--to-datetime", between, "--execute"}).exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == hw[0]);  // the first "late" record
  CHECK(v.offsets[0].lag == 5);
  CHECK(v.offsets[1].committed == hw[1]);  // nothing that recent: the end
  check_lag(v);

  // --by-duration PT1H: every record is that recent, as ListOffsets says.
  const std::vector<int64_t> hw2 = latest_offsets(k, "t");
  REQUIRE(reset(k, {"g", "--topic", "t", "--by-duration", "PT1H", "--execute"}).exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed <= base[0]);
  CHECK(v.offsets[0].lag == hw2[0] - v.offsets[0].committed);

  // --from-file (Kafka's CSV).
  temp_dir files;
  {
    std::ofstream csv(files / "offsets.csv");
    csv << "t,0," << base[0] + 5 << "\n"
        << "t,1," << base[1] + 1 << "\n";
  }
  r = reset(k, {"g", "--from-file", files / "offsets.csv", "--execute"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == base[0] + 5);
  CHECK(v.offsets[1].committed == base[1] + 1);
  CHECK(v.offsets[0].lag == hw2[0] - (base[0] + 5));
  check_lag(v);

  // A plan without --execute (and with --dry-run) changes nothing.
  r = reset(k, {"g", "--topic", "t", "--to-latest", "--dry-run"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("TOPIC") == 0);
  CHECK(r.out.find("CURRENT-OFFSET") != std::string::npos);
  CHECK(describe(k, "g").offsets[0].committed == base[0] + 5);

  // delete-offsets of one partition, then delete the group.
  r = ctl(k, {"group", "delete-offsets", "g", "--topic", "t:1"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  v = describe(k, "g");
  CHECK(v.offsets[0].committed == base[0] + 5);
  CHECK((v.offsets.count(1) == 0 || v.offsets[1].committed == -1));
  r = ctl(k, {"group", "delete", "g"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  r = ctl(k, {"group", "describe", "g"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("does not exist") != std::string::npos);
  list = ctl(k, {"group", "list", "--output", "json"});
  CHECK(list.out.find("\"g\"") == std::string::npos);
}

TEST_CASE("group reset-offsets, describe, delete: bad input is a clear error and changes nothing",
          "[kappactl][group]") {
  kappad_process k;
  const std::vector<int64_t> base = make_topic(k, 2, 4);
  REQUIRE(reset(k, {"g", "--topic", "t", "--to-offset", std::to_string(base[0] + 2), "--execute"})
              .exit_code == 0);
  const group_view before = describe(k, "g");

  struct bad_case {
    std::vector<std::string> args;
    std::string needle;
  };
  temp_dir files;
  {
    std::ofstream csv(files / "bad.csv");
    csv << "t,0,1\nt,1\n";
    std::ofstream unknown(files / "unknown.csv");
    unknown << "t,0,1\nt,9,1\n";
  }
  const std::vector<bad_case> cases{
      {{"--topic", "t", "--to-datetime", "2999-01-01T00:00:00Z", "--execute"}, "in the future"},
      {{"--from-file", files / "bad.csv", "--execute"}, "line 2"},
      {{"--from-file", files / "unknown.csv", "--execute"}, "t-9"},
      {{"--from-file", files / "missing.csv", "--execute"}, "cannot read"},
      {{"--topic", "nope", "--to-earliest", "--execute"}, "'nope'"},
      {{"--topic", "t:9", "--to-earliest", "--execute"}, "no partition 9"},
      {{"--topic", "t", "--to-earliest", "--to-latest", "--execute"},
       "--to-earliest and --to-latest"},
      {{"--topic", "t", "--execute"}, "exactly one of"},
      {{"--to-earliest", "--execute"}, "--topic"},
      {{"--topic", "t", "--by-duration", "1 hour", "--execute"}, "ISO-8601 duration"},
      {{"--topic", "t", "--to-datetime", "yesterday", "--execute"}, "ISO-8601"},
      {{"--topic", "t", "--to-offset", "-3", "--execute"}, ">= 0"},
      {{"--topic", "t", "--to-earliest", "--execute", "--dry-run"}, "not both"},
  };
  for (const bad_case& c : cases) {
    std::vector<std::string> args{"g"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    run_result r = reset(k, args);
    INFO(Catch::Detail::stringify(c.args) << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.needle) != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  }
  const group_view after = describe(k, "g");
  CHECK(after.json == before.json);

  run_result r = ctl(k, {"group", "describe", "nope"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("group 'nope' does not exist") != std::string::npos);
  r = ctl(k, {"group", "delete", "nope"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("does not exist") != std::string::npos);
}

TEST_CASE("consume --group commits as it goes; reset refused while the group has a member",
          "[kappactl][group]") {
  kappad_process k;
  const std::vector<int64_t> base = make_topic(k, 2, 5);
  const std::vector<int64_t> hw = latest_offsets(k, "t");

  temp_dir io;
  pid_t consumer = spawn({kKappactl, "consume", "t", "--group", "live", "--commit-interval-ms",
                          "100", "--bootstrap", k.address()},
                         "", io / "out", io / "err");
  // Both partitions assigned and all ten records printed (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (lines(read_file(io / "out")).size() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("consumer stderr: " << read_file(io / "err") << k.log());
  REQUIRE(lines(read_file(io / "out")).size() == 10);
  CHECK(read_file(io / "err").find("assigned: t-0,t-1") != std::string::npos);

  // Committed within the interval: lag reaches 0 while the member runs.
  group_view v;
  for (int i = 0; i < 100; ++i) {
    v = describe(k, "live");
    if (v.offsets.size() == 2 && v.offsets[0].lag == 0 && v.offsets[1].lag == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(v.json);
  CHECK(v.members == 1);
  CHECK(v.offsets[0].committed == hw[0]);
  CHECK(v.offsets[1].committed == hw[1]);
  CHECK(!v.offsets[0].owner.empty());
  CHECK(v.json.find("\"client_id\":\"kappactl\"") != std::string::npos);
  run_result text = ctl(k, {"group", "describe", "live"});
  CHECK(text.out.find("HOST") != std::string::npos);
  CHECK(text.out.find("t-0,t-1") != std::string::npos);

  // An active group: --execute is refused and nothing changes.
  run_result r = reset(k, {"live", "--topic", "t", "--to-earliest", "--execute"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("active member") != std::string::npos);
  CHECK(describe(k, "live").offsets[0].committed == hw[0]);
  r = ctl(k, {"group", "delete", "live"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("active members") != std::string::npos);

  // SIGTERM: a final commit, then it leaves.
  ::kill(consumer, SIGTERM);
  CHECK(wait_bounded(consumer, 30) == 0);
  v = describe(k, "live");
  CHECK(v.members == 0);
  CHECK(v.offsets[0].committed == hw[0]);

  // Once empty, the reset applies, and the next member starts from it;
  // --count stops after that many records and commits just those.
  REQUIRE(
      reset(k, {"live", "--topic", "t:0", "--to-offset", std::to_string(base[0] + 2), "--execute"})
          .exit_code == 0);
  r = ctl(k, {"consume", "t", "--group", "live", "--count", "2"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "r2\nr3\n");
  v = describe(k, "live");
  CHECK(v.offsets[0].committed == base[0] + 4);
  CHECK(v.offsets[0].lag == 1);
  CHECK(v.offsets[1].committed == hw[1]);
}

}  // namespace kappa::tools_test

namespace kappa::tools_test {

TEST_CASE("consume --group: a second member takes partitions over, printed as revoked/assigned",
          "[kappactl][group]") {
  kappad_process k;
  make_topic(k, 2, 3);
  temp_dir io;
  auto start = [&](const std::string& name) {
    return spawn({kKappactl, "consume", "t", "--group", "pair", "--commit-interval-ms", "100",
                  "--bootstrap", k.address()},
                 "", io / (name + ".out"), io / (name + ".err"));
  };
  auto wait_for = [&](const std::string& file, const std::string& needle) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_file(io / file).find(needle) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return read_file(io / file).find(needle) != std::string::npos;
  };
  pid_t a = start("a");
  INFO("a: " << read_file(io / "a.err"));
  REQUIRE(wait_for("a.err", "assigned: t-0,t-1"));
  pid_t b = start("b");
  // The coordinator moves one partition: revoked from a first, then given to b.
  CHECK(wait_for("b.err", "assigned: t-"));
  CHECK(wait_for("a.err", "revoked: t-"));
  group_view v = describe(k, "pair");
  for (int i = 0; i < 100 && v.state != "\"Stable\""; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    v = describe(k, "pair");
  }
  INFO(v.json);
  CHECK(v.members == 2);
  CHECK(v.state == "\"Stable\"");
  ::kill(b, SIGTERM);
  CHECK(wait_bounded(b, 30) == 0);
  // b left at once: a gets its partition back (a second "assigned:" line).
  auto assigned_lines = [&] {
    size_t n = 0;
    for (const std::string& l : lines(read_file(io / "a.err"))) n += l.rfind("assigned: ", 0) == 0;
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (assigned_lines() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(assigned_lines() == 2);
  ::kill(a, SIGINT);
  CHECK(wait_bounded(a, 30) == 0);
  // Every record printed once in all (commits kept b from rereading a's).
  std::vector<std::string> all = lines(read_file(io / "a.out"));
  for (const std::string& l : lines(read_file(io / "b.out"))) all.push_back(l);
  CHECK(all.size() == 6);
}

}  // namespace kappa::tools_test
