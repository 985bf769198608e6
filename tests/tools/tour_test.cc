// Runs the README's tour (the ```sh block whose first line is `# tour`)
// against a real kappad, so the README cannot rot: `build/` paths point at
// this build, the addresses at this test's kappad (also via
// KAPPA_BOOTSTRAP), and the commands run from a directory whose ./data is
// the broker's data dir, as with `make run`. Each command must exit 0; the
// consume steps must print the records the tour produced.
#include <catch2/catch.hpp>

#include "tests/tools/broker_test_util.h"

namespace kappa::tools_test {
namespace {

std::vector<std::string> tour_commands() {
  std::vector<std::string> all = lines(read_file(KAPPA_SOURCE_DIR "/README.md"));
  std::vector<std::string> commands;
  bool in_tour = false;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!in_tour) {
      in_tour = all[i] == "```sh" && i + 1 < all.size() && all[i + 1] == "# tour";
      continue;
    }
    if (all[i].rfind("```", 0) == 0) break;
    if (all[i].empty() || all[i][0] == '#') continue;
    if (!commands.empty() && commands.back().ends_with("\\")) {
      commands.back().pop_back();
      commands.back() += all[i];
    } else {
      commands.push_back(all[i]);
    }
  }
  return commands;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
}

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

TEST_CASE("the README tour runs against kappad", "[tour][readme]") {
  std::vector<std::string> commands = tour_commands();
  REQUIRE(commands.size() >= 8);
  kappad_process k;
  const std::string metrics = "127.0.0.1:" + std::to_string(k.metrics_port());
  bool consumed_all = false, replayed = false, saw_metrics = false;
  for (std::string c : commands) {
    replace_all(c, "build/", KAPPA_BINARY_DIR "/");
    replace_all(c, "127.0.0.1:9092", k.address());
    replace_all(c, "127.0.0.1:9644", metrics);
    run_result r = run_tool("/bin/bash", {"-c", "cd '" + k.base_dir() + "' && " + c}, "",
                            {"KAPPA_BOOTSTRAP=" + k.address()}, 120);
    INFO("command: " << c << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    if (contains(c, "consume demo --from beginning")) {
      CHECK(contains(r.out, "alice: signed up (partition "));
      CHECK(contains(r.out, "bob: signed up (partition "));
      CHECK(contains(r.out, "alice: bought a book (partition "));
      consumed_all = true;
    } else if (contains(c, "consume demo --from \"$(date")) {
      // Only the records produced after the point in time.
      CHECK(contains(r.out, "carol: signed up\n"));
      CHECK(contains(r.out, "carol: wrote a review\n"));
      CHECK(!contains(r.out, "alice"));
      CHECK(lines(r.out).size() == 2);
      replayed = true;
    } else if (contains(c, "/metrics")) {
      CHECK(contains(r.out, "kappa_"));
      saw_metrics = true;
    } else if (contains(c, "log dump")) {
      CHECK(contains(r.out, "carol"));
    }
  }
  CHECK(consumed_all);
  CHECK(replayed);
  CHECK(saw_metrics);
}

}  // namespace
}  // namespace kappa::tools_test
