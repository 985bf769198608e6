// One test case per script in testdata/. On a mismatch the failing blocks are
// printed with their expected and actual output; KAPPA_REWRITE=1 rewrites the
// expected output in place (review the git diff afterwards).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/replication/raft_script.h"

namespace {

const std::filesystem::path testdata =
    std::filesystem::path(KAPPA_SOURCE_DIR) / "tests/replication/testdata";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A line diff of one block: "-" expected only, "+" actual only (LCS-based).
std::string line_diff(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l)) v.push_back(l);
    return v;
  };
  std::vector<std::string> x = split(a), y = split(b);
  std::vector<std::vector<int>> lcs(x.size() + 1, std::vector<int>(y.size() + 1, 0));
  for (size_t i = x.size(); i-- > 0;) {
    for (size_t j = y.size(); j-- > 0;) {
      lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (i < x.size() && j < y.size() && x[i] == y[j]) {
      out += "  " + x[i++] + "\n";
      ++j;
    } else if (j < y.size() && (i == x.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + y[j++] + "\n";
    } else {
      out += "- " + x[i++] + "\n";
    }
  }
  return out;
}

void run(const std::string& name) {
  std::filesystem::path path = testdata / (name + ".txt");
  INFO("script " << path.string());
  REQUIRE(std::filesystem::exists(path));
  std::string text = read_file(path);
  std::vector<kappa::raft::testing::script_block> blocks = kappa::raft::testing::run_script(text);
  const char* rewrite = std::getenv("KAPPA_REWRITE");
  if (rewrite && std::string(rewrite) == "1") {
    std::ofstream(path) << kappa::raft::testing::render_script(blocks);
    return;
  }
  std::string report;
  for (const auto& b : blocks) {
    if (b.expected == b.actual) continue;
    report += "\n=== " + path.filename().string() + ":" + std::to_string(b.line) + "\n" +
              b.preamble + line_diff(b.expected, b.actual);
    break;  // later blocks usually differ because of this one
  }
  INFO("first mismatching block (- expected, + actual):" << report);
  CHECK(report.empty());
}

}  // namespace

// Every script, once: a script added to testdata/ must be listed here too.
#define RAFT_SCRIPTS(X)     \
  X("election")             \
  X("election_5_nodes")     \
  X("pre_vote")             \
  X("check_quorum")         \
  X("replication")          \
  X("figure_8")             \
  X("conflicting_suffix")   \
  X("fast_backtracking")    \
  X("leadership_transfer")  \
  X("learner")              \
  X("remove_node")          \
  X("proposal_on_follower") \
  X("multi_offset")         \
  X("flow_control")         \
  X("crash_restart")        \
  X("term_inflation_without_pre_vote") \
  X("vote_before_learning_membership") \
  X("install_start")                    \
  X("install_start_diverged")           \
  X("protocol_aware_recovery")

#define RAFT_SCRIPT_TEST(name)                       \
  TEST_CASE("raft script " name, "[raft][script]") { \
    run(name);                                       \
  }
RAFT_SCRIPTS(RAFT_SCRIPT_TEST)

TEST_CASE("every raft script in testdata is listed", "[raft][script]") {
#define RAFT_SCRIPT_NAME(name) name,
  const std::set<std::string> names{RAFT_SCRIPTS(RAFT_SCRIPT_NAME)};
  for (const auto& f : std::filesystem::directory_iterator(testdata)) {
    if (f.path().extension() != ".txt") continue;
    INFO(f.path().string());
    CHECK(names.count(f.path().stem().string()) == 1);
  }
}
