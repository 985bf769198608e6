#include "tests/cluster/workload.h"

#include <chrono>
#include <functional>
#include <future>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "kappa/producer.h"

namespace kappa_cluster {
namespace {

using clock_type = std::chrono::steady_clock;

int64_t ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

kappa::client_config client(const std::string& bootstrap) {
  kappa::client_config c;
  c.bootstrap = bootstrap;
  c.request_timeout_ms = 3000;
  c.retry_backoff_min_ms = 50;
  c.retry_backoff_max_ms = 500;
  c.reconnect_backoff_max_ms = 500;
  c.metadata_max_age_ms = 2000;
  return c;
}

std::vector<kappa::topic_partition> all_partitions(const workload_options& o) {
  std::vector<kappa::topic_partition> tps;
  for (int p = 0; p < o.partitions; ++p) tps.push_back({o.topic, p});
  return tps;
}

// Keeps the first `limit` lines of a kind and counts the rest.
struct capped {
  std::vector<std::string>& out;
  size_t limit;
  size_t seen = 0;
  void add(std::string line) {
    if (seen++ < limit) out.push_back(std::move(line));
  }
  void finish(const std::string& kind) {
    if (seen > limit) out.push_back("... and " + std::to_string(seen - limit) + " more: " + kind);
  }
};

// Closes the consumer on a helper thread, waiting up to timeout_ms. A close
// that hangs (seen in libkappa after broker restarts) leaks the consumer and
// its thread instead of hanging the test; returns false then.
bool close_bounded(std::unique_ptr<kappa::consumer> c, int64_t timeout_ms) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  kappa::consumer* raw = c.release();
  std::thread t([raw, done] {
    raw->close();
    *done = true;
  });
  const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (!*done && clock_type::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!*done) {
    t.detach();
    return false;
  }
  t.join();
  delete raw;
  return true;
}

}  // namespace

workload::workload(workload_options options) : options_(std::move(options)) {}

workload::~workload() { stop(0); }

void workload::start() {
  stop_ = false;
  auto spawn = [this](std::function<void()> body) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    finished_.push_back(done);
    threads_.emplace_back([body = std::move(body), done] {
      body();
      *done = true;
    });
  };
  for (int i = 0; i < options_.producers; ++i) spawn([this, i] { produce_loop(i); });
  for (int i = 0; i < options_.consumers; ++i) spawn([this, i] { consume_loop(i); });
}

void workload::stop(int64_t flush_ms) {
  flush_ms_ = flush_ms;
  stop_ = true;
  const auto deadline = clock_type::now() + std::chrono::milliseconds(flush_ms + 10000);
  for (size_t i = 0; i < threads_.size(); ++i) {
    while (!*finished_[i] && clock_type::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (*finished_[i]) {
      threads_[i].join();
    } else {
      threads_[i].detach();
      hung_ = true;
      std::lock_guard g(h_.mu);
      h_.setup_errors.push_back("client thread " + std::to_string(i) + " (" +
                                (int(i) < options_.producers ? "producer" : "consumer") +
                                ") still running " + std::to_string((flush_ms + 10000) / 1000) +
                                " s after stop: its flush/close() hangs (libkappa)");
    }
  }
  threads_.clear();
  finished_.clear();
}

void workload::produce_loop(int index) {
  kappa::producer_config cfg;
  cfg.client = client(options_.bootstrap);
  cfg.required_acks = kappa::acks::all;
  cfg.idempotence = true;
  cfg.linger_ms = 2;
  cfg.max_block_ms = 2000;
  cfg.delivery_timeout_ms = 20000;
  auto created = kappa::producer::create(cfg);
  if (!created.ok()) {
    std::lock_guard g(h_.mu);
    h_.setup_errors.push_back("producer " + std::to_string(index) +
                                     " could not be created: " + created.status().message());
    return;
  }
  auto& p = *created.value();
  for (int64_t seq = 0; !stop_; ++seq) {
    if (outstanding_.load() > 2000) {  // bounded: at most this many unacknowledged
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      --seq;
      continue;
    }
    std::string value = "p" + std::to_string(index) + "-" + std::to_string(seq);
    {
      std::lock_guard g(h_.mu);
      h_.sent.insert(value);
    }
    ++outstanding_;
    kappa::producer_record r;
    r.topic = options_.topic;
    r.partition = int32_t(seq % options_.partitions);
    r.value = value;
    p.send(std::move(r), [this, value](const kappa::delivery_report& rep) {
      {
        std::lock_guard g(h_.mu);
        if (rep.ok()) {
          h_.acked[value] = {rep.partition, rep.offset};
        } else {
          ++h_.failed;
        }
      }
      --outstanding_;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.send_interval_ms));
  }
  (void)p.flush(flush_ms_.load());
  (void)p.close(0);  // whatever is still pending stays indeterminate (sent, not acknowledged)
}

void workload::consume_loop(int index) {
  kappa::consumer_config cfg;
  cfg.client = client(options_.bootstrap);
  cfg.auto_offset_reset = kappa::offset_reset::earliest;
  cfg.fetch_max_wait_ms = 200;
  auto created = kappa::consumer::create(cfg);
  if (!created.ok()) {
    std::lock_guard g(h_.mu);
    h_.setup_errors.push_back("consumer " + std::to_string(index) +
                              " could not be created: " + created.status().message());
    return;
  }
  auto& c = *created.value();
  const auto tps = all_partitions(options_);
  (void)c.assign(tps);
  std::map<int32_t, int64_t> last;
  while (!stop_) {
    auto polled = c.poll(100);
    if (!polled.ok()) {
      // The failed partition stops until a seek: resume each where it was.
      for (const auto& tp : tps) {
        auto it = last.find(tp.partition);
        (void)c.seek(tp, it == last.end() ? 0 : it->second + 1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    std::lock_guard g(h_.mu);
    for (auto& rec : polled.value()) {
      auto it = last.find(rec.partition);
      if (it != last.end() && rec.offset <= it->second) {
        h_.consumer_violations.push_back("consumer " + std::to_string(index) + " partition " +
                                         std::to_string(rec.partition) + ": offset " +
                                         std::to_string(rec.offset) + " after " +
                                         std::to_string(it->second));
      }
      last[rec.partition] = rec.offset;
      h_.reads.push_back({index, rec.partition, rec.offset, rec.value.value_or("<null>")});
    }
  }
  c.close();
}

int64_t workload::probe_writes(int64_t timeout_ms) {
  const auto t0 = clock_type::now();
  kappa::producer_config cfg;
  cfg.client = client(options_.bootstrap);
  cfg.required_acks = kappa::acks::all;
  cfg.linger_ms = 0;
  cfg.max_block_ms = timeout_ms;
  cfg.delivery_timeout_ms = timeout_ms;
  auto created = kappa::producer::create(cfg);
  if (!created.ok()) return -1;
  auto& p = *created.value();
  const int n = probes_++;
  std::vector<std::pair<std::string, std::future<kappa::delivery_report>>> futures;
  for (int part = 0; part < options_.partitions; ++part) {
    std::string value = "probe" + std::to_string(n) + "-" + std::to_string(part);
    {
      std::lock_guard g(h_.mu);
      h_.sent.insert(value);
    }
    kappa::producer_record r;
    r.topic = options_.topic;
    r.partition = part;
    r.value = value;
    futures.emplace_back(value, p.send(std::move(r)));
  }
  int64_t slowest = 0;
  bool all_ok = true;
  for (auto& [value, f] : futures) {
    const int64_t left = std::max<int64_t>(0, timeout_ms + 2000 - ms_since(t0));
    if (f.wait_for(std::chrono::milliseconds(left)) != std::future_status::ready) {
      all_ok = false;
      continue;
    }
    auto rep = f.get();
    if (!rep.ok()) {
      all_ok = false;
      continue;
    }
    slowest = std::max(slowest, ms_since(t0));
    std::lock_guard g(h_.mu);
    h_.acked[value] = {rep.partition, rep.offset};
  }
  (void)p.close(0);
  return all_ok && slowest <= timeout_ms ? slowest : -1;
}

std::string workload::drain(int64_t timeout_ms) {
  const auto t0 = clock_type::now();
  const auto tps = all_partitions(options_);
  auto adm = kappa::admin::create(client(options_.bootstrap));
  if (!adm.ok()) return "admin: " + adm.status().message();
  std::map<int32_t, int64_t> hw;
  std::string last_error;
  while (int(hw.size()) < options_.partitions && ms_since(t0) < timeout_ms) {
    std::vector<std::pair<kappa::topic_partition, int64_t>> specs;
    for (const auto& tp : tps) {
      if (!hw.count(tp.partition)) specs.emplace_back(tp, kappa::kLatestOffsetSpec);
    }
    auto listed = adm.value()->list_offsets(specs);
    if (listed.ok()) {
      for (const auto& l : listed.value()) {
        if (l.status.ok()) hw[l.tp.partition] = l.offset;
        else last_error = l.status.message();
      }
    } else {
      last_error = listed.status().message();
    }
    if (int(hw.size()) < options_.partitions) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (int(hw.size()) < options_.partitions) return "ListOffsets(latest) kept failing: " + last_error;

  kappa::consumer_config cfg;
  cfg.client = client(options_.bootstrap);
  cfg.auto_offset_reset = kappa::offset_reset::none;
  cfg.fetch_max_wait_ms = 100;
  auto created = kappa::consumer::create(cfg);
  if (!created.ok()) return "consumer: " + created.status().message();
  auto& c = *created.value();
  (void)c.assign(tps);
  for (const auto& tp : tps) (void)c.seek(tp, 0);
  std::map<int32_t, std::map<int64_t, std::string>> got;
  auto done = [&] {
    for (const auto& tp : tps) {
      auto pos = c.position(tp);
      if (!pos.ok() || pos.value() < hw[tp.partition]) return false;
    }
    return true;
  };
  std::string error;
  while (!done()) {
    if (ms_since(t0) > timeout_ms) {
      error = "drain did not reach every high watermark within " + std::to_string(timeout_ms) + " ms";
      break;
    }
    auto polled = c.poll(200);
    if (!polled.ok()) {
      for (const auto& tp : tps) {
        auto pos = c.position(tp);
        (void)c.seek(tp, pos.ok() ? pos.value() : 0);
      }
      continue;
    }
    for (auto& rec : polled.value()) {
      if (rec.offset < hw[rec.partition]) got[rec.partition][rec.offset] = rec.value.value_or("<null>");
    }
  }
  if (!close_bounded(std::move(created).value(), 10000)) {
    error += std::string(error.empty() ? "" : "; ") + "the drain consumer's close() hung (libkappa)";
  }
  std::lock_guard g(h_.mu);
  h_.drained = std::move(got);
  h_.high_watermarks = hw;
  return error;
}

std::vector<std::string> workload::check() {
  std::lock_guard g(h_.mu);
  std::vector<std::string> out;
  std::map<std::string, std::vector<std::pair<int32_t, int64_t>>> where;
  for (const auto& [p, records] : h_.drained) {
    for (const auto& [o, v] : records) where[v].emplace_back(p, o);
  }
  auto at = [](std::pair<int32_t, int64_t> po) {
    return std::to_string(po.first) + "/" + std::to_string(po.second);
  };
  capped never_sent{out, 10}, dup{out, 10}, lost{out, 20}, moved{out, 10}, bad_read{out, 10},
      consumer{out, 10};
  for (const auto& [v, places] : where) {
    if (!h_.sent.count(v)) never_sent.add("read a record never sent: '" + v + "' at " + at(places[0]));
    if (places.size() > 1) {
      std::string s = "duplicate: '" + v + "' at";
      for (const auto& pl : places) s += " " + at(pl);
      dup.add(s);
    }
  }
  for (const auto& [v, po] : h_.acked) {
    auto it = where.find(v);
    if (it == where.end()) {
      lost.add("lost: '" + v + "' acknowledged at " + at(po) + " is not in the final log (high watermark " +
               std::to_string(h_.high_watermarks[po.first]) + ")");
    } else if (it->second[0] != po) {
      moved.add("'" + v + "' acknowledged at " + at(po) + " but found at " + at(it->second[0]));
    }
  }
  for (const auto& r : h_.reads) {
    if (!h_.sent.count(r.value)) {
      never_sent.add("consumer " + std::to_string(r.consumer) + " read a record never sent: '" + r.value + "'");
      continue;
    }
    auto pit = h_.drained.find(r.partition);
    const std::string* final_value = nullptr;
    if (pit != h_.drained.end()) {
      auto oit = pit->second.find(r.offset);
      if (oit != pit->second.end()) final_value = &oit->second;
    }
    if (!final_value || *final_value != r.value) {
      bad_read.add("consumer " + std::to_string(r.consumer) + " read '" + r.value + "' at " +
                   at({r.partition, r.offset}) + " but the final log has " +
                   (final_value ? "'" + *final_value + "'" : std::string("nothing")) + " there");
    }
  }
  for (const auto& v : h_.consumer_violations) consumer.add(v);
  for (const auto& v : h_.setup_errors) out.push_back(v);
  never_sent.finish("never sent");
  dup.finish("duplicates");
  lost.finish("lost acknowledged records");
  moved.finish("moved records");
  bad_read.finish("reads not in the final log");
  consumer.finish("consumer order");
  return out;
}

std::string workload::summary() {
  std::lock_guard g(h_.mu);
  size_t drained = 0;
  for (const auto& [p, r] : h_.drained) drained += r.size();
  return "sent " + std::to_string(h_.sent.size()) + ", acknowledged " + std::to_string(h_.acked.size()) +
         ", failed reports " + std::to_string(h_.failed) + ", consumer reads " +
         std::to_string(h_.reads.size()) + ", drained " + std::to_string(drained);
}

}  // namespace kappa_cluster
