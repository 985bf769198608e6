// Helpers for tests that run the built tool binaries: a scratch directory,
// segment files made of real RecordBatch v2 bytes, and running a binary with
// its stdout, stderr and exit code captured.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "proto/format/records.h"

extern char** environ;

namespace kappa::tools_test {

inline const std::string kKappactl = KAPPA_BINARY_DIR "/tools/kappactl";
inline const std::string kKappaBench = KAPPA_BINARY_DIR "/tools/kappa-bench";

// A fresh directory, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "kappa-tools-test-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `binary args...` to completion, capturing its output in files (not
// pipes, so a chatty child cannot block on a full pipe).
inline run_result run(const std::string& binary, const std::vector<std::string>& args) {
  temp_dir io;
  std::string out_path = io / "stdout", err_path = io / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  run_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One batch at `base_offset` of `count` records: key "k<i>", value
// "value-<offset>", one header "h" = "<offset>"; timestamps 1700000000000 + offset.
inline byte_buffer make_batch(int64_t base_offset, int count) {
  std::vector<format::record> records;
  for (int i = 0; i < count; ++i) {
    int64_t offset = base_offset + i;
    format::record r;
    r.key = "k" + std::to_string(i);
    r.value = "value-" + std::to_string(offset);
    r.headers.push_back({"h", std::to_string(offset)});
    r.timestamp = 1700000000000 + offset;
    records.push_back(std::move(r));
  }
  format::batch_options options;
  options.base_offset = base_offset;
  auto batch = format::build_batch(options, records);
  REQUIRE(batch.ok());
  return std::move(batch).value();
}

inline void append_to_file(const std::string& path, byte_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// The segment file name for a base offset: 20 digits.
inline std::string segment_name(int64_t base_offset) {
  std::string digits = std::to_string(base_offset);
  return std::string(20 - digits.size(), '0') + digits + ".log";
}

// Writes batches of `per_batch` records from `base_offset` into a new
// segment file in `dir`; returns the byte position where each batch starts.
inline std::vector<size_t> write_segment(const std::string& dir, int64_t base_offset, int batches,
                                         int per_batch) {
  std::vector<size_t> positions;
  std::string path = dir + "/" + segment_name(base_offset);
  size_t pos = 0;
  for (int b = 0; b < batches; ++b) {
    byte_buffer batch = make_batch(base_offset + int64_t{b} * per_batch, per_batch);
    positions.push_back(pos);
    append_to_file(path, batch);
    pos += batch.size();
  }
  return positions;
}

inline void flip_bit(const std::string& path, size_t position, int bit) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(position));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(static_cast<std::streamoff>(position));
  f.write(&c, 1);
  REQUIRE(f.good());
}

// The raw text of a top-level field of a one-line JSON object
// (a number, true/false/null, or a quoted string with its quotes), or "".
inline std::string json_field(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  size_t at = line.find(needle);
  if (at == std::string::npos) return "";
  size_t start = at + needle.size(), end = start;
  int depth = 0;
  bool in_string = false;
  for (; end < line.size(); ++end) {
    char c = line[end];
    if (in_string) {
      if (c == '\\') ++end;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) break;
      --depth;
    } else if (c == ',' && depth == 0) {
      break;
    }
  }
  return line.substr(start, end - start);
}

}  // namespace kappa::tools_test
