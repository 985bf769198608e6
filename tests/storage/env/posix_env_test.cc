// posix_env specifics that the shared contract suite does not cover.
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "storage/env.h"

namespace kappa::storage {
namespace {

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/kappa_posix_env_test_XXXXXX";
    char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    path = d;
  }
  ~temp_dir() { (void)posix_env().remove_all(path); }
  std::string path;
};

TEST_CASE("PosixSmokeWriteReadSync", "[posix_env]") {
  temp_dir dir;
  env& e = posix_env();
  auto f = e.open(dir.path + "/a", open_mode::create_exclusive);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("hello")).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE(e.sync_dir(dir.path).ok());
  uint8_t buf[16];
  auto n = (*f)->pread(0, buf);
  REQUIRE(n.ok());
  CHECK(as_chars({buf, *n}) == "hello");
  CHECK(*e.file_size(dir.path + "/a") == 5);
}

TEST_CASE("PosixSecondLockNamesHolderPid", "[posix_env]") {
  temp_dir dir;
  env& e = posix_env();
  const std::string path = dir.path + "/LOCK";
  auto first = e.lock(path);
  REQUIRE(first.ok());
  // flock locks belong to the open file description, so a second open in the
  // same process contends like another process would.
  auto second = e.lock(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == std::errc::resource_unavailable_try_again);
  const std::string msg = second.status().message();
  CHECK(msg.find(path + " is locked by another kappa process") != std::string::npos);
  CHECK(msg.find("(pid " + std::to_string(::getpid()) + ")") != std::string::npos);
  first->reset();
  auto third = e.lock(path);
  CHECK(third.ok());
}

TEST_CASE("PosixErrorsNameOperationAndPath", "[posix_env]") {
  temp_dir dir;
  auto f = posix_env().open(dir.path + "/missing", open_mode::read_only);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == std::errc::no_such_file_or_directory);
  CHECK(f.status().message().find("open " + dir.path + "/missing") != std::string::npos);
}

TEST_CASE("PosixNowMsFollowsSystemClock", "[posix_env]") {
  int64_t now = posix_env().now_ms();
  CHECK(now > int64_t{1600000000000});
}

}  // namespace
}  // namespace kappa::storage
