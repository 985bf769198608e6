// power_loss_env: the durable-size journal and its replay (see
// power_loss_env.h for the model and the journal's grammar).
#include "storage/power_loss_env.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "storage/path_env_internal.h"

namespace kappa::storage {
namespace {

using internal::is_within;
using internal::normalize_path;

// What the journal knows about one file.
struct record {
  std::string path;  // normalized; follows renames
  bool created_unsynced = false;
  uint64_t durable_bytes = 0;
  bool dropped = false;  // removed or replaced: handles still open stop recording
  // Syncs in flight on this file: each slot caps what the sync may claim by
  // the smallest truncate made while it ran.
  std::vector<uint64_t*> sync_caps;
};

// Replay-time view of one file.
struct replay_entry {
  bool created_unsynced = false;
  uint64_t durable_bytes = 0;
};

// Moves every key at or below `from` to the same place below `to`.
template <typename Map, typename OnMove>
void rekey(Map& m, const std::string& from, const std::string& to, OnMove on_move) {
  Map moved;
  for (auto it = m.begin(); it != m.end();) {
    if (is_within(it->first, from)) {
      std::string dest = to + it->first.substr(from.size());
      on_move(it->second, dest);
      moved.emplace(std::move(dest), std::move(it->second));
      it = m.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [k, v] : moved) m[k] = std::move(v);
}

template <typename Map, typename OnDrop>
void drop_within(Map& m, const std::string& dir, OnDrop on_drop) {
  for (auto it = m.begin(); it != m.end();) {
    if (is_within(it->first, dir)) {
      on_drop(it->second);
      it = m.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t tab = line.find('\t', pos);
    if (tab == std::string_view::npos) {
      out.emplace_back(line.substr(pos));
      return out;
    }
    out.emplace_back(line.substr(pos, tab - pos));
    pos = tab + 1;
  }
}

bool parse_u64(const std::string& s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads the journal into per-file durable state. Unknown or torn lines are
// skipped: the last line may be cut by the kill this env simulates.
std::map<std::string, replay_entry> parse_journal(const std::string& text) {
  std::map<std::string, replay_entry> files;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line
    std::vector<std::string> f = split_tabs(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    uint64_t n = 0;
    if (f[0] == "C" && f.size() == 2) {
      files[f[1]] = replay_entry{.created_unsynced = true, .durable_bytes = 0};
    } else if (f[0] == "S" && f.size() == 3 && parse_u64(f[1], n)) {
      files[f[2]] = replay_entry{.created_unsynced = false, .durable_bytes = n};
    } else if (f[0] == "T" && f.size() == 3 && parse_u64(f[1], n)) {
      auto [it, fresh] = files.try_emplace(f[2], replay_entry{.durable_bytes = n});
      if (!fresh) it->second.durable_bytes = std::min(it->second.durable_bytes, n);
    } else if (f[0] == "R" && f.size() == 3) {
      drop_within(files, f[2], [](replay_entry&) {});
      rekey(files, f[1], f[2], [](replay_entry&, const std::string&) {});
    } else if (f[0] == "D" && f.size() == 2) {
      drop_within(files, f[1], [](replay_entry&) {});
    }
  }
  return files;
}

Status read_all(env& base, const std::string& path, std::string& out) {
  KAPPA_ASSIGN_OR_RETURN(auto f, base.open(path, open_mode::read_only));
  KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    KAPPA_ASSIGN_OR_RETURN(
        size_t n, f->pread(done, mutable_byte_view(reinterpret_cast<uint8_t*>(out.data()) + done,
                                                   size - done)));
    if (n == 0) break;
    done += n;
  }
  out.resize(done);
  return Status();
}

// Cuts every journaled file back to its durable size; removes files created
// and never synced. Returns what it did, for the log line.
Status replay(env& base, const std::string& journal_path, int& cut, int& removed) {
  cut = removed = 0;
  if (!base.exists(journal_path)) return Status();
  std::string text;
  KAPPA_RETURN_IF_ERROR(read_all(base, journal_path, text));
  for (const auto& [path, e] : parse_journal(text)) {
    if (!base.exists(path) || base.is_dir(path)) continue;
    if (e.created_unsynced) {
      KAPPA_RETURN_IF_ERROR(base.remove(path));
      ++removed;
      continue;
    }
    KAPPA_ASSIGN_OR_RETURN(uint64_t size, base.file_size(path));
    if (size <= e.durable_bytes) continue;
    KAPPA_ASSIGN_OR_RETURN(auto f, base.open(path, open_mode::read_write));
    KAPPA_RETURN_IF_ERROR(f->truncate(e.durable_bytes));
    KAPPA_RETURN_IF_ERROR(f->sync());
    ++cut;
  }
  return Status();
}

struct state {
  state(env& b, std::string dir)
      : base(b), journal_path(dir + "/" + kPowerLossJournalName),
        tmp_path(journal_path + ".tmp") {}

  env& base;
  const std::string journal_path;
  const std::string tmp_path;
  std::mutex mu;
  std::unique_ptr<file> journal;
  uint64_t journal_bytes = 0;
  uint64_t journal_lines = 0;
  std::map<std::string, std::shared_ptr<record>> files;

  Status open_fresh_journal() {
    KAPPA_ASSIGN_OR_RETURN(journal, base.open(journal_path, open_mode::read_write));
    KAPPA_RETURN_IF_ERROR(journal->truncate(0));
    journal_bytes = journal_lines = 0;
    return Status();
  }

  // REQUIRES: mu held.
  Status append(const std::string& line) {
    std::string l = line + "\n";
    KAPPA_RETURN_IF_ERROR(journal->pwrite(journal_bytes, as_bytes(l)));
    journal_bytes += l.size();
    ++journal_lines;
    if (journal_lines > 4096 && journal_lines > 4 * files.size()) return compact();
    return Status();
  }

  // Rewrites the journal as the live records. A kill at any point leaves the
  // old journal or the new one whole (rename).
  Status compact() {
    std::string text;
    for (const auto& [path, r] : files) {
      text += r->created_unsynced ? "C\t" + path + "\n"
                                  : "S\t" + std::to_string(r->durable_bytes) + "\t" + path + "\n";
    }
    {
      KAPPA_ASSIGN_OR_RETURN(auto tmp, base.open(tmp_path, open_mode::read_write));
      KAPPA_RETURN_IF_ERROR(tmp->truncate(0));
      KAPPA_RETURN_IF_ERROR(tmp->pwrite(0, as_bytes(text)));
    }
    journal.reset();
    KAPPA_RETURN_IF_ERROR(base.rename(tmp_path, journal_path));
    KAPPA_ASSIGN_OR_RETURN(journal, base.open(journal_path, open_mode::read_write));
    journal_bytes = text.size();
    journal_lines = files.size();
    return Status();
  }

  static byte_view as_bytes(const std::string& s) {
    return byte_view(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
};

class power_loss_file final : public file {
 public:
  power_loss_file(std::shared_ptr<state> st, std::unique_ptr<file> base, std::shared_ptr<record> r)
      : st_(std::move(st)), base_(std::move(base)), rec_(std::move(r)) {}

  Status pwrite(uint64_t offset, byte_view data) override { return base_->pwrite(offset, data); }
  Result<size_t> pread(uint64_t offset, mutable_byte_view out) override {
    return base_->pread(offset, out);
  }
  Result<uint64_t> size() override { return base_->size(); }
  Result<std::shared_ptr<const mapped_region>> map(uint64_t length) override {
    return base_->map(length);
  }

  Status sync() override {
    uint64_t cap = UINT64_MAX;
    {
      std::lock_guard g(st_->mu);
      rec_->sync_caps.push_back(&cap);
    }
    // The size before the sync: bytes written while it runs may miss it.
    Result<uint64_t> before = base_->size();
    Status synced = before.ok() ? base_->sync() : before.status();
    std::lock_guard g(st_->mu);
    std::erase(rec_->sync_caps, &cap);
    if (!synced.ok()) return synced;
    if (rec_->dropped) return Status();
    const uint64_t claim = std::min(before.value(), cap);
    if (!rec_->created_unsynced && claim <= rec_->durable_bytes) return Status();
    rec_->created_unsynced = false;
    rec_->durable_bytes = std::max(rec_->durable_bytes, claim);
    return st_->append("S\t" + std::to_string(rec_->durable_bytes) + "\t" + rec_->path);
  }

  Status truncate(uint64_t size) override {
    KAPPA_RETURN_IF_ERROR(base_->truncate(size));
    std::lock_guard g(st_->mu);
    for (uint64_t* cap : rec_->sync_caps) *cap = std::min(*cap, size);
    if (rec_->dropped || size >= rec_->durable_bytes) return Status();
    rec_->durable_bytes = size;
    return st_->append("T\t" + std::to_string(size) + "\t" + rec_->path);
  }

 private:
  std::shared_ptr<state> st_;
  std::unique_ptr<file> base_;
  std::shared_ptr<record> rec_;
};

class power_loss_env final : public env {
 public:
  explicit power_loss_env(std::shared_ptr<state> st) : st_(std::move(st)) {}

  Result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override {
    env& base = st_->base;
    if (mode == open_mode::read_only) return base.open(path, mode);
    const std::string n = normalize_path(path);
    if (n.find_first_of("\t\n") != std::string::npos) {
      return Status::from_errno(EINVAL, "open " + path + " (power_loss_env: tab or newline in path)");
    }
    std::lock_guard g(st_->mu);
    const bool existed = base.exists(path);
    KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<file> f, base.open(path, mode));
    std::shared_ptr<record>& r = st_->files[n];
    if (!existed) {
      if (r) r->dropped = true;
      r = std::make_shared<record>(record{.path = n, .created_unsynced = true});
      KAPPA_RETURN_IF_ERROR(st_->append("C\t" + n));
    } else if (!r) {
      // First write-open of a file that predates the journal: all of it is durable.
      KAPPA_ASSIGN_OR_RETURN(uint64_t size, f->size());
      r = std::make_shared<record>(record{.path = n, .durable_bytes = size});
      KAPPA_RETURN_IF_ERROR(st_->append("S\t" + std::to_string(size) + "\t" + n));
    }
    return std::unique_ptr<file>(std::make_unique<power_loss_file>(st_, std::move(f), r));
  }

  Status rename(const std::string& from, const std::string& to) override {
    KAPPA_RETURN_IF_ERROR(st_->base.rename(from, to));
    const std::string f = normalize_path(from), t = normalize_path(to);
    std::lock_guard g(st_->mu);
    drop_within(st_->files, t, [](std::shared_ptr<record>& r) { r->dropped = true; });
    rekey(st_->files, f, t, [&](std::shared_ptr<record>& r, const std::string& dest) { r->path = dest; });
    return st_->append("R\t" + f + "\t" + t);
  }

  Status remove(const std::string& path) override {
    KAPPA_RETURN_IF_ERROR(st_->base.remove(path));
    return forget(path);
  }
  Status remove_all(const std::string& path) override {
    KAPPA_RETURN_IF_ERROR(st_->base.remove_all(path));
    return forget(path);
  }

  bool exists(const std::string& path) override { return st_->base.exists(path); }
  Result<uint64_t> file_size(const std::string& path) override { return st_->base.file_size(path); }
  Status create_dirs(const std::string& path) override { return st_->base.create_dirs(path); }
  Status sync_dir(const std::string& path) override { return st_->base.sync_dir(path); }
  Result<std::vector<std::string>> list(const std::string& dir) override { return st_->base.list(dir); }
  bool is_dir(const std::string& path) override { return st_->base.is_dir(path); }
  Result<std::unique_ptr<file_lock>> lock(const std::string& path) override {
    return st_->base.lock(path);
  }
  int64_t now_ms() override { return st_->base.now_ms(); }

 private:
  Status forget(const std::string& path) {
    const std::string n = normalize_path(path);
    std::lock_guard g(st_->mu);
    drop_within(st_->files, n, [](std::shared_ptr<record>& r) { r->dropped = true; });
    return st_->append("D\t" + n);
  }

  std::shared_ptr<state> st_;
};

[[noreturn]] void die(const std::string& journal_dir, const Status& st) {
  std::fprintf(stderr, "power_loss_env: cannot replay the journal in %s: %s\n", journal_dir.c_str(),
               st.message().c_str());
  std::abort();
}

}  // namespace

std::unique_ptr<env> make_power_loss_env(env& base, std::string journal_dir) {
  journal_dir = normalize_path(journal_dir);
  auto st = std::make_shared<state>(base, journal_dir);
  int cut = 0, removed = 0;
  Status s = base.create_dirs(journal_dir);
  if (s.ok()) s = replay(base, st->journal_path, cut, removed);
  if (s.ok()) s = st->open_fresh_journal();
  if (!s.ok()) die(journal_dir, s);
  if (cut > 0 || removed > 0) {
    std::fprintf(stderr,
                 "power_loss_env: simulated power loss: cut %d file(s) back to their synced size, "
                 "removed %d never-synced file(s)\n",
                 cut, removed);
  }
  return std::make_unique<power_loss_env>(std::move(st));
}

}  // namespace kappa::storage
