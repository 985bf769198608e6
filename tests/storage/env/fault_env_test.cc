// fault_env: each test inflicts one kind of damage and checks what survives.
#include <cerrno>
#include <set>
#include <string>

#include "tests/storage/env/env_test_util.h"

namespace kappa::storage::test {
namespace {

// A fault_env over a fresh mem_env, with a durable directory /d.
struct fault_fixture {
  fault_fixture() : base(new_mem_env(1 << 20)), fe(*base) {
    REQUIRE(fe.create_dirs("/d").ok());
    REQUIRE(fe.sync_dir("/").ok());
  }
  std::unique_ptr<env> base;
  fault_env fe;
};

// Creates /d/<name> with `content`, synced and with its directory synced.
void durable_file(fault_env& fe, const std::string& path, std::string_view content) {
  auto f = fe.open(path, open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes(content)).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE(fe.sync_dir("/d").ok());
}

TEST_CASE("UnsyncedDataIsLostAtCrash", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/f", "durable");
  {
    auto f = fx.fe.open("/d/f", open_mode::read_write);
    REQUIRE(f.ok());
    REQUIRE((*f)->pwrite(7, as_bytes("+lost")).ok());
    REQUIRE((*f)->pwrite(0, as_bytes("D")).ok());  // an unsynced overwrite of durable bytes
  }
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/f") == "durable");
}

TEST_CASE("SyncedDataSurvivesCrash", "[fault_env]") {
  fault_fixture fx;
  auto f = fx.fe.open("/d/f", open_mode::create_exclusive);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("one")).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE(fx.fe.sync_dir("/d").ok());
  REQUIRE((*f)->pwrite(3, as_bytes("two")).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE((*f)->pwrite(6, as_bytes("three")).ok());
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/f") == "onetwo");
}

TEST_CASE("TornWriteKeepsPrefix", "[fault_env]") {
  const std::string tail = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::set<size_t> sizes_seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    INFO("seed " << seed);
    std::string survived[2];
    for (int run = 0; run < 2; ++run) {  // the same seed tears the same way
      fault_fixture fx;
      durable_file(fx.fe, "/d/f", "head:");
      auto f = fx.fe.open("/d/f", open_mode::read_write);
      REQUIRE(f.ok());
      REQUIRE((*f)->pwrite(5, as_bytes(tail)).ok());
      fx.fe.crash(crash_mode::keep_random_unsynced_prefix, seed);
      survived[run] = read_file(fx.fe, "/d/f");
    }
    CHECK(survived[0] == survived[1]);
    REQUIRE(survived[0].size() >= 5);
    CHECK(survived[0] == ("head:" + tail).substr(0, survived[0].size()));  // a prefix, never a hole
    sizes_seen.insert(survived[0].size());
  }
  CHECK(sizes_seen.size() > 5);  // the seed does choose different tears
}

TEST_CASE("UnsyncedCreateIsUndone", "[fault_env]") {
  fault_fixture fx;
  auto f = fx.fe.open("/d/new", open_mode::create_exclusive);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(0, as_bytes("data")).ok());
  REQUIRE((*f)->sync().ok());  // file data synced, directory entry not
  fx.fe.crash();
  CHECK_FALSE(fx.fe.exists("/d/new"));
  CHECK(fx.fe.list("/d")->empty());
}

TEST_CASE("UnsyncedRenameIsReverted", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/meta", "old");
  durable_file(fx.fe, "/d/meta.tmp", "new");
  REQUIRE(fx.fe.rename("/d/meta.tmp", "/d/meta").ok());
  CHECK(read_file(fx.fe, "/d/meta") == "new");
  auto names = fx.fe.list("/d");
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"meta"});  // the backup is hidden
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/meta") == "old");
  CHECK(read_file(fx.fe, "/d/meta.tmp") == "new");
}

TEST_CASE("UnsyncedRemoveIsUndone", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/seg", "segment bytes");
  REQUIRE(fx.fe.remove("/d/seg").ok());
  CHECK_FALSE(fx.fe.exists("/d/seg"));
  CHECK(fx.fe.list("/d")->empty());
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/seg") == "segment bytes");
}

TEST_CASE("SyncedDirOpsSurvive", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/meta", "old");
  durable_file(fx.fe, "/d/gone", "x");
  durable_file(fx.fe, "/d/meta.tmp", "new");
  REQUIRE(fx.fe.rename("/d/meta.tmp", "/d/meta").ok());
  REQUIRE(fx.fe.remove("/d/gone").ok());
  REQUIRE(fx.fe.sync_dir("/d/").ok());  // spelled differently, same directory
  // The displaced files are deleted for real once the ops are durable.
  auto base_names = fx.base->list("/d");
  REQUIRE(base_names.ok());
  CHECK(*base_names == std::vector<std::string>{"meta"});
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/meta") == "new");
  CHECK_FALSE(fx.fe.exists("/d/meta.tmp"));
  CHECK_FALSE(fx.fe.exists("/d/gone"));
}

TEST_CASE("FailNextWriteEio", "[fault_env]") {
  fault_fixture fx;
  auto f = fx.fe.open("/d/f", open_mode::read_write);
  REQUIRE(f.ok());
  fx.fe.fail_next_write(EIO);
  Status st = (*f)->pwrite(0, as_bytes("abc"));
  CHECK(st.code() == std::errc::io_error);
  CHECK(*(*f)->size() == 0);  // nothing written
  CHECK((*f)->pwrite(0, as_bytes("abc")).ok());  // only the next one fails
  CHECK(read_all(**f) == "abc");
}

TEST_CASE("FailNextSyncEio", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/f", "a");
  auto f = fx.fe.open("/d/f", open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->pwrite(1, as_bytes("b")).ok());
  fx.fe.fail_next_sync(EIO);
  CHECK((*f)->sync().code() == std::errc::io_error);
  fx.fe.crash();  // the failed sync made nothing durable
  CHECK(read_file(fx.fe, "/d/f") == "a");
}

TEST_CASE("EnospcWritesPartialPrefix", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/a", "0123456789");  // 10 bytes used
  fx.fe.set_space_limit_bytes(14);
  auto f = fx.fe.open("/d/b", open_mode::read_write);
  REQUIRE(f.ok());
  Status st = (*f)->pwrite(0, as_bytes("abcdef"));
  CHECK(st.code() == std::errc::no_space_on_device);
  CHECK(read_all(**f) == "abcd");  // what fitted
  CHECK((*f)->pwrite(0, as_bytes("AB")).ok());  // overwriting needs no space
  CHECK((*f)->pwrite(4, as_bytes("e")).code() == std::errc::no_space_on_device);
  fx.fe.set_space_limit_bytes(UINT64_MAX);
  CHECK((*f)->pwrite(4, as_bytes("ef")).ok());
  CHECK(read_all(**f) == "ABcdef");
}

TEST_CASE("FailAllAfterStopsEveryMutation", "[fault_env]") {
  fault_fixture fx;
  auto f = fx.fe.open("/d/f", open_mode::read_write);
  REQUIRE(f.ok());
  const uint64_t start = fx.fe.mutation_count();
  fx.fe.fail_all_after(2);
  CHECK((*f)->pwrite(0, as_bytes("ab")).ok());
  CHECK((*f)->sync().ok());
  CHECK((*f)->pwrite(2, as_bytes("c")).code() == std::errc::io_error);
  CHECK((*f)->sync().code() == std::errc::io_error);
  CHECK((*f)->truncate(0).code() == std::errc::io_error);
  CHECK(fx.fe.rename("/d/f", "/d/g").code() == std::errc::io_error);
  CHECK(fx.fe.remove("/d/f").code() == std::errc::io_error);
  CHECK(fx.fe.sync_dir("/d").code() == std::errc::io_error);
  CHECK(fx.fe.open("/d/h", open_mode::read_write).status().code() == std::errc::io_error);
  CHECK(fx.fe.mutation_count() == start + 8);
  CHECK(read_all(**f) == "ab");  // reads still work
  CHECK(fx.fe.write_count() == 2);
  CHECK(fx.fe.sync_count() == 2);
  fx.fe.crash();  // the restarted process may mutate again
  auto g = fx.fe.open("/d/h", open_mode::read_write);
  REQUIRE(g.ok());
  CHECK((*g)->pwrite(0, as_bytes("x")).ok());
}

TEST_CASE("FlipBitVisibleThroughMapping", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/f", "AAAA");
  auto f = fx.fe.open("/d/f", open_mode::read_only);
  REQUIRE(f.ok());
  auto region = (*f)->map(4);
  REQUIRE(region.ok());
  REQUIRE(fx.fe.flip_bit("/d/f", 2, 0).ok());
  CHECK(as_chars((*region)->bytes()) == "AA@A");  // 'A' ^ 1 == '@'
  CHECK(read_file(fx.fe, "/d/f") == "AA@A");
  CHECK_FALSE(fx.fe.flip_bit("/d/f", 4, 0).ok());
  CHECK_FALSE(fx.fe.flip_bit("/d/f", 0, 8).ok());
}

TEST_CASE("OldHandlesFailAfterCrash", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/f", "abc");
  auto f = fx.fe.open("/d/f", open_mode::read_write);
  REQUIRE(f.ok());
  auto lock = fx.fe.lock("/d/LOCK");
  REQUIRE(lock.ok());
  fx.fe.crash();
  uint8_t buf[4];
  CHECK((*f)->pread(0, buf).status().code() == std::errc::io_error);
  CHECK((*f)->pwrite(0, as_bytes("x")).code() == std::errc::io_error);
  CHECK((*f)->sync().code() == std::errc::io_error);
  CHECK((*f)->truncate(0).code() == std::errc::io_error);
  CHECK((*f)->size().status().code() == std::errc::io_error);
  CHECK((*f)->map(3).status().code() == std::errc::io_error);
  // A power cut releases the dead process's locks; a new handle works.
  CHECK(fx.fe.lock("/d/LOCK").ok());
  auto g = fx.fe.open("/d/f", open_mode::read_only);
  REQUIRE(g.ok());
  CHECK(read_all(**g) == "abc");
  lock->reset();  // releasing after the crash is harmless
}

TEST_CASE("NowMsFollowsBaseUntilSet", "[fault_env]") {
  fault_fixture fx;
  CHECK(fx.fe.now_ms() > int64_t{1600000000000});
  fx.fe.set_now_ms(42);
  CHECK(fx.fe.now_ms() == 42);
}

TEST_CASE("TruncateBelowSyncedSizeIsDurable", "[fault_env]") {
  fault_fixture fx;
  durable_file(fx.fe, "/d/f", "0123456789");
  auto f = fx.fe.open("/d/f", open_mode::read_write);
  REQUIRE(f.ok());
  REQUIRE((*f)->truncate(4).ok());
  REQUIRE((*f)->pwrite(4, as_bytes("xy")).ok());
  fx.fe.crash();
  CHECK(read_file(fx.fe, "/d/f") == "0123");
}

TEST_CASE("CrashAtEveryMutationPoint", "[fault_env]") {
  // The pattern the log's recovery tests follow: count the mutations of a
  // sequence, then die after each prefix of it and check what survives.
  auto run = [](fault_env& fe) {
    auto f = fe.open("/d/meta.tmp", open_mode::read_write);
    if (!f.ok()) return;
    if (!(*f)->pwrite(0, as_bytes("v2")).ok() || !(*f)->sync().ok()) return;
    if (!fe.rename("/d/meta.tmp", "/d/meta").ok()) return;
    (void)fe.sync_dir("/d");
  };
  uint64_t total = 0;
  {
    fault_fixture fx;
    durable_file(fx.fe, "/d/meta", "v1");
    const uint64_t before = fx.fe.mutation_count();
    run(fx.fe);
    total = fx.fe.mutation_count() - before;
  }
  REQUIRE(total == 4);
  for (uint64_t k = 0; k <= total; ++k) {
    INFO("dying after " << k << " mutations");
    fault_fixture fx;
    durable_file(fx.fe, "/d/meta", "v1");
    fx.fe.fail_all_after(k);
    run(fx.fe);
    fx.fe.crash();
    CHECK(read_file(fx.fe, "/d/meta") == (k == total ? "v2" : "v1"));  // atomic: old or new
  }
}

}  // namespace
}  // namespace kappa::storage::test
