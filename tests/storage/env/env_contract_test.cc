// The env contract (env.h), checked against every implementation.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "tests/storage/env/env_test_util.h"

namespace kappa::storage::test {
namespace {

env_kind any_kind() { return GENERATE(env_kind::posix, env_kind::mem, env_kind::fault_over_mem); }

std::vector<std::string> sorted_list(env& e, const std::string& dir) {
  auto names = e.list(dir);
  REQUIRE(names.ok());
  std::sort(names->begin(), names->end());
  return *names;
}

TEST_CASE("OpenModes", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  const std::string p = fx.path("f");

  auto missing = e.open(p, open_mode::read_only);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == std::errc::no_such_file_or_directory);
  CHECK(missing.status().message().find(p) != std::string::npos);
  CHECK_FALSE(e.exists(p));

  REQUIRE(e.open(p, open_mode::read_write).ok());
  CHECK(e.exists(p));
  auto excl = e.open(p, open_mode::create_exclusive);
  REQUIRE_FALSE(excl.ok());
  CHECK(excl.status().code() == std::errc::file_exists);
  REQUIRE(e.open(fx.path("g"), open_mode::create_exclusive).ok());

  auto ro = e.open(p, open_mode::read_only);
  REQUIRE(ro.ok());
  CHECK_FALSE((*ro)->pwrite(0, as_bytes("x")).ok());

  auto in_missing_dir = e.open(fx.path("nodir/f"), open_mode::read_write);
  REQUIRE_FALSE(in_missing_dir.ok());
  CHECK(in_missing_dir.status().code() == std::errc::no_such_file_or_directory);
}

TEST_CASE("PwritePreadAndSizes", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  auto f = e.open(fx.path("f"), open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("abc")).ok());
  REQUIRE((*f)->pwrite(6, as_bytes("xyz")).ok());  // leaves a hole
  CHECK(*(*f)->size() == 9);
  CHECK(*e.file_size(fx.path("f")) == 9);
  CHECK(read_all(**f) == std::string("abc\0\0\0xyz", 9));

  uint8_t buf[8];
  auto n = (*f)->pread(7, buf);
  REQUIRE(n.ok());
  CHECK(as_chars({buf, *n}) == "yz");  // short only at end of file
  n = (*f)->pread(100, buf);
  REQUIRE(n.ok());
  CHECK(*n == 0);
  REQUIRE((*f)->sync().ok());

  auto missing = e.file_size(fx.path("nope"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == std::errc::no_such_file_or_directory);
}

TEST_CASE("TruncateShrinksAndGrowsWithZeros", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  auto f = fx.e->open(fx.path("f"), open_mode::read_write);
  REQUIRE(f.ok());
  std::string big(10000, 'q');
  REQUIRE((*f)->pwrite(0, as_bytes(big)).ok());
  REQUIRE((*f)->truncate(3).ok());
  CHECK(*(*f)->size() == 3);
  // Bytes cut off must not come back when the file grows again.
  REQUIRE((*f)->truncate(9000).ok());
  std::string all = read_all(**f);
  REQUIRE(all.size() == 9000);
  CHECK(all.substr(0, 3) == "qqq");
  CHECK(all.find_first_not_of('\0', 3) == std::string::npos);
}

TEST_CASE("RenameReplacesTarget", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  write_file(e, fx.path("a"), "new");
  write_file(e, fx.path("b"), "old content");
  auto old_handle = e.open(fx.path("b"), open_mode::read_only);
  REQUIRE(old_handle.ok());
  REQUIRE(e.rename(fx.path("a"), fx.path("b")).ok());
  CHECK_FALSE(e.exists(fx.path("a")));
  CHECK(read_file(e, fx.path("b")) == "new");
  CHECK(read_all(**old_handle) == "old content");  // the replaced file lives on
  auto missing = e.rename(fx.path("a"), fx.path("c"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.code() == std::errc::no_such_file_or_directory);
}

TEST_CASE("RemoveFile", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  write_file(e, fx.path("a"), "data");
  auto h = e.open(fx.path("a"), open_mode::read_write);
  REQUIRE(h.ok());
  REQUIRE(e.remove(fx.path("a")).ok());
  CHECK_FALSE(e.exists(fx.path("a")));
  CHECK(read_all(**h) == "data");  // an unlinked file stays readable
  auto again = e.remove(fx.path("a"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.code() == std::errc::no_such_file_or_directory);
}

TEST_CASE("ListNamesEntries", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  CHECK(sorted_list(e, fx.root).empty());
  write_file(e, fx.path("b.log"), "");
  write_file(e, fx.path("a.index"), "");
  REQUIRE(e.create_dirs(fx.path("sub/deeper")).ok());
  write_file(e, fx.path("sub/inner"), "");
  CHECK(sorted_list(e, fx.root) == std::vector<std::string>{"a.index", "b.log", "sub"});
  CHECK(sorted_list(e, fx.path("sub")) == std::vector<std::string>{"deeper", "inner"});
  auto missing = e.list(fx.path("nope"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == std::errc::no_such_file_or_directory);
}

TEST_CASE("CreateDirsAndRemoveAll", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  REQUIRE(e.create_dirs(fx.path("a/b/c")).ok());
  REQUIRE(e.create_dirs(fx.path("a/b/c")).ok());  // ok if it exists
  CHECK(e.is_dir(fx.path("a")));
  CHECK(e.is_dir(fx.path("a/b/c")));
  write_file(e, fx.path("a/b/f"), "x");
  CHECK_FALSE(e.is_dir(fx.path("a/b/f")));
  REQUIRE(e.create_dirs(fx.path("a-sibling")).ok());  // sorts between "a" and "a/..."
  write_file(e, fx.path("a-sibling/keep"), "k");

  auto nonempty = e.remove(fx.path("a/b"));
  REQUIRE_FALSE(nonempty.ok());
  CHECK(nonempty.code() == std::errc::directory_not_empty);

  REQUIRE(e.remove_all(fx.path("a")).ok());
  CHECK_FALSE(e.exists(fx.path("a")));
  CHECK_FALSE(e.exists(fx.path("a/b/f")));
  CHECK(read_file(e, fx.path("a-sibling/keep")) == "k");
  REQUIRE(e.remove_all(fx.path("a")).ok());  // missing is fine
  REQUIRE(e.sync_dir(fx.root).ok());
}

TEST_CASE("MappingSeesLaterWrites", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  auto f = fx.e->open(fx.path("seg"), open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("head")).ok());
  auto region = (*f)->map(1 << 16);  // longer than the file: room to grow
  REQUIRE(region.ok());
  REQUIRE((*region)->bytes().size() == 1 << 16);
  CHECK(as_chars((*region)->bytes().first(4)) == "head");
  REQUIRE((*f)->pwrite(4, as_bytes("+tail")).ok());
  CHECK(as_chars((*region)->bytes().first(9)) == "head+tail");
  REQUIRE((*f)->pwrite(0, as_bytes("H")).ok());
  CHECK((*region)->bytes()[0] == 'H');

  auto empty = (*f)->map(0);
  REQUIRE(empty.ok());
  CHECK((*empty)->bytes().empty());
}

TEST_CASE("MappingOutlivesRemovedFile", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  std::shared_ptr<const mapped_region> region;
  {
    auto f = fx.e->open(fx.path("seg"), open_mode::read_write);
    REQUIRE(f.ok());
    REQUIRE((*f)->pwrite(0, as_bytes("still here")).ok());
    auto r = (*f)->map(10);
    REQUIRE(r.ok());
    region = *r;
  }  // handle closed
  REQUIRE(fx.e->remove(fx.path("seg")).ok());
  CHECK(as_chars(region->bytes()) == "still here");
}

TEST_CASE("LockIsExclusive", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  env& e = *fx.e;
  const std::string p = fx.path("LOCK");
  auto first = e.lock(p);
  REQUIRE(first.ok());
  auto second = e.lock(p);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find(p + " is locked by another kappa process (pid " +
                                       std::to_string(::getpid()) + ")") != std::string::npos);
  first->reset();
  CHECK(e.lock(p).ok());
}

TEST_CASE("ConcurrentDisjointWritesAndReads", "[env]") {
  env_fixture fx(any_kind());
  INFO(kind_name(fx.kind));
  auto f = fx.e->open(fx.path("f"), open_mode::read_write);
  REQUIRE(f.ok());
  constexpr int kThreads = 4, kChunks = 200, kChunkBytes = 64;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string chunk(kChunkBytes, static_cast<char>('a' + t));
      for (int c = 0; c < kChunks; ++c) {
        uint64_t offset = static_cast<uint64_t>((c * kThreads + t) * kChunkBytes);
        if (!(*f)->pwrite(offset, as_bytes(chunk)).ok()) ++failures;
        uint8_t back[kChunkBytes];
        auto n = (*f)->pread(offset, back);
        if (!n.ok() || *n != kChunkBytes || back[0] != chunk[0]) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  std::string all = read_all(**f);
  REQUIRE(all.size() == size_t{kThreads * kChunks * kChunkBytes});
  for (size_t i = 0; i < all.size(); i += kChunkBytes) {
    if (all[i] != 'a' + static_cast<int>((i / kChunkBytes) % kThreads)) FAIL("chunk at " << i);
  }
}

}  // namespace
}  // namespace kappa::storage::test
