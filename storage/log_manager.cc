// storage::log_manager (log_manager.h).
#include "storage/log_manager.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "storage/errc.h"
#include "storage/metadata_file.h"

namespace kappa::storage {

std::string partition_id::dir_name() const { return topic + "-" + std::to_string(partition); }

std::optional<partition_id> partition_id::parse(const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= name.size() || dash > 249) return std::nullopt;
  int64_t p = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || i - dash > 10) return std::nullopt;
    p = p * 10 + (name[i] - '0');
  }
  if (p > INT32_MAX) return std::nullopt;
  for (size_t i = 0; i < dash; ++i) {
    char c = name[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return std::nullopt;
  }
  return partition_id{name.substr(0, dash), static_cast<int32_t>(p)};
}

namespace {

// How long the background thread sleeps at most between looks at the clock.
// The clock may be simulated (fault_env::set_now_ms), so it polls; close()
// wakes it at once through the condition variable.
constexpr int64_t kBackgroundPollMsMax = 50;

class log_manager_impl final : public log_manager {
 public:
  log_manager_impl(env& e, std::string data_dir, log_manager_options options)
      : env_(e), data_dir_(std::move(data_dir)), options_(std::move(options)) {}
  ~log_manager_impl() override { (void)close(); }

  Status open() {
    KAPPA_RETURN_IF_ERROR(env_.create_dirs(data_dir_));
    auto lk = env_.lock(data_dir_ + "/.lock");
    if (!lk.ok()) {
      return Status(lk.status().code(), "data dir " + data_dir_ +
                                            " is in use by another process (or log_manager): " +
                                            lk.status().message());
    }
    lock_ = std::move(lk).value();
    KAPPA_ASSIGN_OR_RETURN(auto names, env_.list(data_dir_));
    std::vector<partition_id> ids;
    for (const auto& n : names) {
      auto id = partition_id::parse(n);
      if (id && env_.is_dir(data_dir_ + "/" + n)) ids.push_back(*id);
    }
    std::vector<std::unique_ptr<log>> opened(ids.size());
    std::vector<Status> errors(ids.size());
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < ids.size();) {
        auto l = log::open(env_, data_dir_ + "/" + ids[i].dir_name(), options_.default_config);
        if (l.ok()) opened[i] = std::move(l).value(); else errors[i] = l.status();
      }
    };
    const int threads = std::clamp<int>(options_.open_threads, 1, 64);
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && static_cast<size_t>(t) < ids.size(); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!errors[i].ok()) return errors[i];
      logs_.emplace(ids[i], entry{std::shared_ptr<log>(std::move(opened[i])), env_.now_ms()});
    }
    next_retention_ms_ = env_.now_ms() + options_.retention_check_interval_ms;
    if (options_.background) background_ = std::thread([this] { run_background(); });
    return Status();
  }

  log* get(const partition_id& id) const override {
    std::lock_guard lk(mu_);
    auto it = logs_.find(id);
    return it == logs_.end() ? nullptr : it->second.l.get();
  }

  Result<log*> get_or_create(const partition_id& id, const log_config& config) override {
    if (!partition_id::parse(id.dir_name()) || id.partition < 0 || id.topic.size() > 249) {
      return error(errc::invalid_argument, "invalid partition name '" + id.dir_name() +
                                               "': topics are [a-zA-Z0-9._-], at most 249 characters");
    }
    std::lock_guard lk(mu_);
    if (closed_) return error(errc::log_closed, data_dir_ + ": log manager is closed");
    if (auto it = logs_.find(id); it != logs_.end()) return it->second.l.get();
    KAPPA_ASSIGN_OR_RETURN(auto l, log::open(env_, data_dir_ + "/" + id.dir_name(), config));
    KAPPA_RETURN_IF_ERROR(env_.sync_dir(data_dir_));
    log* raw = l.get();
    logs_.emplace(id, entry{std::shared_ptr<log>(std::move(l)), env_.now_ms()});
    return raw;
  }

  Status remove(const partition_id& id) override {
    std::shared_ptr<log> l;
    {
      std::lock_guard lk(mu_);
      auto it = logs_.find(id);
      if (it == logs_.end()) return error(errc::not_found, data_dir_ + ": no partition " + id.dir_name());
      l = std::move(it->second.l);
      logs_.erase(it);
    }
    (void)l->close();  // its files are about to go; a failed close changes nothing
    KAPPA_RETURN_IF_ERROR(env_.remove_all(l->dir()));
    return env_.sync_dir(data_dir_);
  }

  std::vector<partition_id> partitions() const override {
    std::lock_guard lk(mu_);
    std::vector<partition_id> out;
    for (const auto& [id, e] : logs_) out.push_back(id);
    return out;
  }

  const std::string& data_dir() const override { return data_dir_; }

  Status close() override {
    {
      std::lock_guard lk(mu_);
      if (closed_) return Status();
      closed_ = true;
    }
    cv_.notify_all();
    if (background_.joinable()) background_.join();
    Status first;
    std::map<partition_id, entry> logs;
    {
      std::lock_guard lk(mu_);
      logs.swap(logs_);
    }
    for (auto& [id, e] : logs) {
      Status st = e.l->close();
      if (first.ok() && !st.ok()) first = st;
    }
    lock_.reset();
    return first;
  }

 private:
  struct entry {
    std::shared_ptr<log> l;
    int64_t last_flush_ms = 0;
  };

  void run_background() {
    std::unique_lock lk(mu_);
    while (!closed_) {
      const int64_t now = env_.now_ms();
      std::vector<std::shared_ptr<log>> to_flush, to_retain;
      for (auto& [id, e] : logs_) {
        const log_config& c = e.l->config();
        if (c.flush == flush_policy::interval && now - e.last_flush_ms >= c.flush_interval_ms) {
          to_flush.push_back(e.l);
          e.last_flush_ms = now;
        }
      }
      if (now >= next_retention_ms_) {
        for (auto& [id, e] : logs_) to_retain.push_back(e.l);
        next_retention_ms_ = now + options_.retention_check_interval_ms;
      }
      lk.unlock();
      // Failures put the log itself in a failed state (its status() says
      // why); there is nobody to return them to here.
      for (auto& l : to_flush) (void)l->flush();
      for (auto& l : to_retain) (void)l->enforce_retention();
      to_flush.clear();
      to_retain.clear();
      lk.lock();
      if (closed_) break;
      cv_.wait_for(lk, std::chrono::milliseconds(kBackgroundPollMsMax));
    }
  }

  env& env_;
  const std::string data_dir_;
  const log_manager_options options_;
  std::unique_ptr<file_lock> lock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<partition_id, entry> logs_;  // [mu_]
  bool closed_ = false;                 // [mu_]
  int64_t next_retention_ms_ = 0;       // [mu_]
  std::thread background_;
};

}  // namespace

Result<std::unique_ptr<log_manager>> log_manager::open(env& e, std::string data_dir,
                                                       log_manager_options options) {
  auto m = std::make_unique<log_manager_impl>(e, std::move(data_dir), std::move(options));
  KAPPA_RETURN_IF_ERROR(m->open());
  return std::unique_ptr<log_manager>(std::move(m));
}

}  // namespace kappa::storage
