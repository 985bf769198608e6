#include "tests/replication/raft_script.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tests/replication/raft_cluster.h"

namespace kappa::raft::testing {
namespace {

std::string trim_trailing_newlines(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

std::vector<script_block> run_script(const std::string& text) {
  std::vector<script_block> blocks;
  std::stringstream ss(text);
  std::string line;
  script_block cur;
  enum { preamble, output } state = preamble;
  auto finish = [&] {
    if (!cur.command.empty()) blocks.push_back(cur);
    cur = script_block{};
    state = preamble;
  };
  int line_no = 0;
  while (std::getline(ss, line)) {
    ++line_no;
    if (state == output) {
      if (line.empty()) {
        finish();
        continue;
      }
      cur.expected += line + "\n";
      continue;
    }
    if (line.empty()) continue;
    if (line == "----") {
      state = output;
      continue;
    }
    cur.preamble += line + "\n";
    if (line[0] != '#') {
      cur.command = line;
      cur.line = line_no;
    }
  }
  finish();

  cluster c;
  for (script_block& b : blocks) {
    b.expected = trim_trailing_newlines(b.expected);
    b.actual = trim_trailing_newlines(c.run(parse_command(b.command)));
    // KAPPA_SCRIPT_TRACE=1 shows each block as it runs, for scripts that abort.
    if (const char* t = std::getenv("KAPPA_SCRIPT_TRACE"); t && std::string(t) == "1") {
      std::fprintf(stderr, "%s----\n%s\n\n", b.preamble.c_str(), b.actual.c_str());
    }
    if (b.actual.empty()) b.actual = "ok";
  }
  return blocks;
}

std::string render_script(const std::vector<script_block>& blocks) {
  std::string out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i) out += "\n";
    out += blocks[i].preamble + "----\n" + blocks[i].actual + "\n";
  }
  return out;
}

}  // namespace kappa::raft::testing
