// mem_env specifics: the fixed reservation per file and POSIX-like errnos.
#include <catch2/catch.hpp>

#include "storage/env.h"

namespace kappa::storage {
namespace {

TEST_CASE("MemWritePastMaxFileBytesFailsEfbig", "[mem_env]") {
  auto e = new_mem_env(4096);
  auto f = e->open("/f", open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(4090, as_bytes("123456")).ok());
  auto st = (*f)->pwrite(4095, as_bytes("xy"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == std::errc::file_too_large);
  CHECK(*(*f)->size() == 4096);
  CHECK((*f)->truncate(4097).code() == std::errc::file_too_large);
  auto region = (*f)->map(1 << 20);  // cut to the reservation
  REQUIRE(region.ok());
  CHECK((*region)->bytes().size() == 4096);
}

TEST_CASE("MemNamespaceErrnos", "[mem_env]") {
  auto e = new_mem_env(4096);
  REQUIRE(e->create_dirs("/d").ok());
  REQUIRE(e->open("/d/f", open_mode::read_write).ok());
  CHECK(e->open("/d/f/x", open_mode::read_write).status().code() == std::errc::not_a_directory);
  CHECK(e->create_dirs("/d/f").code() == std::errc::file_exists);
  CHECK(e->create_dirs("/d/f/g").code() == std::errc::not_a_directory);
  CHECK(e->open("/d", open_mode::read_only).status().code() == std::errc::is_a_directory);
  CHECK(e->list("/d/f").status().code() == std::errc::not_a_directory);
  CHECK(e->remove("/d").code() == std::errc::directory_not_empty);
  CHECK(e->rename("/d/f", "/d").code() == std::errc::is_a_directory);
}

TEST_CASE("MemPathsAreNormalized", "[mem_env]") {
  auto e = new_mem_env(4096);
  REQUIRE(e->create_dirs("/a//b/").ok());
  REQUIRE(e->open("/a/./b/../b//f", open_mode::read_write).ok());
  CHECK(e->exists("/a/b/f"));
  CHECK(e->exists("a/b/f"));  // relative paths start at the root
  auto names = e->list("/a/b/");
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"f"});
}

TEST_CASE("MemRenameMovesDirectoryTree", "[mem_env]") {
  auto e = new_mem_env(4096);
  REQUIRE(e->create_dirs("/x/y").ok());
  auto f = e->open("/x/y/f", open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("v")).ok());
  REQUIRE(e->rename("/x", "/z").ok());
  CHECK_FALSE(e->exists("/x"));
  CHECK(e->is_dir("/z/y"));
  CHECK(*e->file_size("/z/y/f") == 1);
  CHECK(e->rename("/z", "/z/y/inside").code() == std::errc::invalid_argument);
}

TEST_CASE("MemTruncateReleasesAndZeroesPages", "[mem_env]") {
  auto e = new_mem_env(1 << 20);
  auto f = e->open("/f", open_mode::read_write);
  REQUIRE(f.ok());
  std::string big(100000, 'z');
  REQUIRE((*f)->pwrite(0, as_bytes(big)).ok());
  auto region = (*f)->map(1 << 20);
  REQUIRE(region.ok());
  REQUIRE((*f)->truncate(5000).ok());
  REQUIRE((*f)->truncate(100000).ok());
  byte_view b = (*region)->bytes();
  CHECK(b[4999] == 'z');
  for (size_t i = 5000; i < 100000; ++i) {
    if (b[i] != 0) FAIL("byte " << i << " not zero after shrink and regrow");
  }
}

}  // namespace
}  // namespace kappa::storage
