// power_loss_env: what was not fsynced is gone at the next start, as after a
// power cut — over a mem_env ("killing" = dropping the env without syncing),
// and over the real filesystem with a child process that SIGKILLs itself.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "log_test_util.h"
#include "storage/power_loss_env.h"

namespace kappa::storage::test {
namespace {

byte_view bytes_of(const std::string& s) {
  return byte_view(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string content(env& e, const std::string& path) {
  auto f = e.open(path, open_mode::read_only);
  REQUIRE(f.ok());
  auto size = f.value()->size();
  REQUIRE(size.ok());
  std::string out(size.value(), '\0');
  auto n = f.value()->pread(0, mutable_byte_view(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  REQUIRE(n.ok());
  out.resize(n.value());
  return out;
}

void write(file& f, uint64_t offset, const std::string& s) { REQUIRE(f.pwrite(offset, bytes_of(s)).ok()); }

struct mem_fixture {
  std::unique_ptr<env> base = new_mem_env(uint64_t{8} << 20);
  mem_fixture() { REQUIRE(base->create_dirs("/data").ok()); }
  std::unique_ptr<env> start() { return make_power_loss_env(*base, "/data"); }
};

}  // namespace

TEST_CASE("power_loss_unsynced_tail_is_gone_after_restart", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto f = e->open("/data/a.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 0, "synced-");
    REQUIRE(f.value()->sync().ok());
    write(**f, 7, "lost");
    CHECK(content(*e, "/data/a.log") == "synced-lost");  // visible while running
  }  // killed: dropped without sync
  auto e = fx.start();
  CHECK(content(*e, "/data/a.log") == "synced-");
}

TEST_CASE("power_loss_file_created_and_never_synced_is_removed", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto f = e->open("/data/new.log", open_mode::create_exclusive);
    REQUIRE(f.ok());
    write(**f, 0, "never synced");
    auto g = e->open("/data/kept.log", open_mode::read_write);
    REQUIRE(g.ok());
    REQUIRE(g.value()->sync().ok());  // empty but synced: it stays
  }
  auto e = fx.start();
  CHECK_FALSE(e->exists("/data/new.log"));
  CHECK(e->exists("/data/kept.log"));
  CHECK(content(*e, "/data/kept.log").empty());
}

TEST_CASE("power_loss_file_that_predates_the_env_keeps_its_old_bytes_only", "[power_loss]") {
  mem_fixture fx;
  {
    auto f = fx.base->open("/data/old.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 0, "old");
  }
  {
    auto e = fx.start();
    auto f = e->open("/data/old.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 3, "+new");
  }
  auto e = fx.start();
  CHECK(content(*e, "/data/old.log") == "old");
}

TEST_CASE("power_loss_shrinking_truncate_is_durable_and_regrowth_is_not", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto f = e->open("/data/seg.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 0, "0123456789");
    REQUIRE(f.value()->sync().ok());
    REQUIRE(f.value()->truncate(4).ok());  // a diverged suffix cut off
    write(**f, 4, "abcdef");               // new suffix, not synced
  }
  auto e = fx.start();
  CHECK(content(*e, "/data/seg.log") == "0123");
}

TEST_CASE("power_loss_records_follow_renames_and_forget_removals", "[power_loss]") {
  mem_fixture fx;
  REQUIRE(fx.base->create_dirs("/data/t-0").ok());
  {
    auto e = fx.start();
    {
      auto tmp = e->open("/data/t-0/meta.tmp", open_mode::read_write);
      REQUIRE(tmp.ok());
      write(**tmp, 0, "v1");
      REQUIRE(tmp.value()->sync().ok());
    }
    REQUIRE(e->rename("/data/t-0/meta.tmp", "/data/t-0/meta").ok());
    auto m = e->open("/data/t-0/meta", open_mode::read_write);
    REQUIRE(m.ok());
    write(**m, 2, "-unsynced");
    auto gone = e->open("/data/t-0/gone.log", open_mode::read_write);
    REQUIRE(gone.ok());
    REQUIRE(gone.value()->sync().ok());
    REQUIRE(e->remove("/data/t-0/gone.log").ok());
    // A whole directory renamed: records below it move too.
    REQUIRE(e->create_dirs("/data/u-0").ok());
    auto seg = e->open("/data/u-0/s.log", open_mode::read_write);
    REQUIRE(seg.ok());
    write(**seg, 0, "abc");
    REQUIRE(seg.value()->sync().ok());
    write(**seg, 3, "def");
    REQUIRE(e->rename("/data/u-0", "/data/v-0").ok());
  }
  auto e = fx.start();
  CHECK(content(*e, "/data/t-0/meta") == "v1");
  CHECK_FALSE(e->exists("/data/t-0/meta.tmp"));
  CHECK_FALSE(e->exists("/data/t-0/gone.log"));
  CHECK(content(*e, "/data/v-0/s.log") == "abc");
}

TEST_CASE("power_loss_torn_last_journal_line_is_ignored", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto f = e->open("/data/a.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 0, "abcdef");
    REQUIRE(f.value()->sync().ok());
    write(**f, 6, "ghi");
  }
  {  // the kill landed in the middle of a journal write
    auto j = fx.base->open(std::string("/data/") + kPowerLossJournalName, open_mode::read_write);
    REQUIRE(j.ok());
    auto size = j.value()->size();
    REQUIRE(size.ok());
    write(**j, size.value(), "S\t9\t/data/a.l");
  }
  auto e = fx.start();
  CHECK(content(*e, "/data/a.log") == "abcdef");
}

TEST_CASE("power_loss_a_second_start_without_writes_changes_nothing", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto f = e->open("/data/a.log", open_mode::read_write);
    REQUIRE(f.ok());
    write(**f, 0, "abc");
    REQUIRE(f.value()->sync().ok());
    write(**f, 3, "def");
  }
  { auto e = fx.start(); }
  { auto e = fx.start(); }
  auto e = fx.start();
  CHECK(content(*e, "/data/a.log") == "abc");
}

TEST_CASE("power_loss_journal_compaction_keeps_every_durable_size", "[power_loss]") {
  mem_fixture fx;
  {
    auto e = fx.start();
    auto a = e->open("/data/a.log", open_mode::read_write);
    auto b = e->open("/data/b.log", open_mode::read_write);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    for (int i = 0; i < 6000; ++i) {  // well past the compaction threshold
      write(**a, i, "x");
      REQUIRE(a.value()->sync().ok());
    }
    write(**b, 0, "never");
    write(**a, 6000, "tail");
    auto j = fx.base->file_size(std::string("/data/") + kPowerLossJournalName);
    REQUIRE(j.ok());
    CHECK(j.value() < 4096 * 30);  // compacted at least once
  }
  auto e = fx.start();
  CHECK(content(*e, "/data/a.log") == std::string(6000, 'x'));
  CHECK_FALSE(e->exists("/data/b.log"));
}

TEST_CASE("power_loss_log_over_posix_loses_only_unflushed_batches_at_sigkill", "[power_loss][posix]") {
  char tmpl[] = "/tmp/kappa_power_loss_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::string dir = root + "/topic-0";
  auto c = small_config(8192);
  c.flush = flush_policy::interval;
  c.flush_interval_ms = 3600 * 1000;  // only explicit flushes
  std::vector<byte_buffer> batches;
  for (int i = 0; i < 40; ++i) batches.push_back(make_batch(2, 1000 + i, 150, i));

  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: no Catch2 assertions; any failure exits non-zero.
    auto e = make_power_loss_env(posix_env(), root);
    auto l = log::open(*e, dir, c);
    if (!l.ok()) ::_exit(3);
    for (int i = 0; i < 40; ++i) {
      byte_buffer b = batches[i];
      if (!l.value()->append(b, 1).ok()) ::_exit(4);
      if (i == 24 && !l.value()->flush().ok()) ::_exit(5);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(6);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  // Without the replay, the page cache kept all 40 batches on disk.
  uint64_t on_disk = 0, sent = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") on_disk += entry.file_size();
  }
  for (const auto& b : batches) sent += b.size();
  CHECK(on_disk == sent);
  // With it, only the 25 flushed batches come back, intact and in order.
  auto e = make_power_loss_env(posix_env(), root);
  auto l = open_log(*e, dir, c);
  CHECK(l->status().ok());
  auto all = read_all(*l);
  REQUIRE(all.size() == 25);
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].size() == batches[i].size());
    CHECK(crc_ok(all[i]));
    CHECK(format::read_header(all[i]).base_offset == static_cast<int64_t>(2 * i));
  }
  REQUIRE(l->close().ok());
  l.reset();
  e.reset();
  std::filesystem::remove_all(root);
}

}  // namespace kappa::storage::test
