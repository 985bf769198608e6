// kappa-group-bench: the consumer-group benchmarks of issue 5 (BENCHMARKS.md
// "Consumer groups"), against a running kappad (tools/bench/groups.sh starts
// one and runs all three):
//
//   join        a group of --members (10) over --partitions (100): time from
//               one more member's subscribe() until the group settles, i.e.
//               describe_group shows it Stable with every member Stable and
//               each partition assigned once (also: until the last
//               assignment callback ran). Target <= 1 s.
//   throughput  --consumers (4) manually assigned consumers, then as many
//               group members (a fresh group each round), read the same
//               topic from the beginning to its end. Target: group >= 0.9x
//               manual (same run).
//   idle-groups --groups (10,000) groups created by one commit each (an
//               out-of-group commit, as reset-offsets does); with
//               --kappad-pid, the broker's RSS before and after. Target
//               <= 200 MiB.
//
// Every mode prints plain lines and one final JSON line. Members are libkappa
// consumers in this process, one polling thread each.
// Exit: 0 ok, 1 the benchmark failed (stderr says why), 2 usage error.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kappa/admin.h"
#include "kappa/consumer.h"
#include "kappa/producer.h"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

kappa::client_config client_config(const std::string& bootstrap) {
  kappa::client_config c;
  c.bootstrap = bootstrap;
  c.request_timeout_ms = 10000;
  c.retry_backoff_min_ms = 20;
  c.retry_backoff_max_ms = 500;
  return c;
}

int fail(const std::string& why) {
  std::fprintf(stderr, "kappa-group-bench: %s\n", why.c_str());
  return 1;
}

bool ensure_topic(kappa::admin& admin, const std::string& topic, int32_t partitions, std::string& err) {
  auto r = admin.create_topics({{topic, partitions, 0, {}}});
  if (!r.ok()) {
    err = r.status().message();
    return false;
  }
  if (!r.value().empty() && !r.value()[0].status.ok() &&
      r.value()[0].status.code() != kappa::client_errc::topic_already_exists) {
    err = r.value()[0].status.message();
    return false;
  }
  for (int i = 0; i < 300; ++i) {
    auto d = admin.describe_topics({topic});
    if (d.ok() && d.value().size() == 1 && int(d.value()[0].partitions.size()) == partitions) {
      bool all = true;
      for (const auto& p : d.value()[0].partitions) all = all && p.leader_id >= 0;
      if (all) return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  err = "topic " + topic + " has partitions without a leader";
  return false;
}

int64_t rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      int64_t v = 0;
      in >> v;
      return v;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return -1;
}

// A group member driven by its own polling thread; records when its
// assignment callbacks ran.
class member {
 public:
  member(const std::string& bootstrap, const std::string& topic, const std::string& group, const std::string& name,
         kappa::offset_reset reset) {
    kappa::consumer_config cfg;
    cfg.client = client_config(bootstrap);
    cfg.client_id = name;
    cfg.auto_offset_reset = reset;
    cfg.session_timeout_ms = 30000;
    auto c = kappa::consumer::create(cfg);
    if (!c.ok()) throw std::runtime_error("consumer: " + c.status().message());
    consumer_ = std::move(c).value();
    topic_ = topic;
    group_ = group;
  }
  ~member() { stop(); }

  // subscribe() and the polling thread; `on_records` gets each poll's count.
  void start(std::function<void(const std::vector<kappa::consumed_record>&)> on_records = {}) {
    kappa::rebalance_listener l;
    auto stamp = [this](kappa::consumer&, const std::vector<kappa::topic_partition>& tps) {
      std::lock_guard g(mu_);
      last_callback_ = clock_type::now();
      ++callbacks_;
      (void)tps;
    };
    l.on_assigned = [this, stamp](kappa::consumer& c, const std::vector<kappa::topic_partition>& tps) {
      stamp(c, tps);
      std::lock_guard g(mu_);
      for (const auto& tp : tps) owned_.insert(tp);
    };
    l.on_revoked = [this, stamp](kappa::consumer& c, const std::vector<kappa::topic_partition>& tps) {
      stamp(c, tps);
      std::lock_guard g(mu_);
      for (const auto& tp : tps) owned_.erase(tp);
    };
    auto s = consumer_->subscribe({topic_}, group_, l);
    if (!s.ok()) throw std::runtime_error("subscribe: " + s.message());
    thread_ = std::thread([this, on_records] {
      while (!stop_) {
        auto r = consumer_->poll(50);
        if (r.ok() && on_records) on_records(r.value());
      }
    });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) {
      consumer_->wakeup();
      thread_.join();
    }
    if (consumer_) consumer_->close();
  }
  clock_type::time_point last_callback() const {
    std::lock_guard g(mu_);
    return last_callback_;
  }
  size_t owned() const {
    std::lock_guard g(mu_);
    return owned_.size();
  }
  std::string member_id() const { return consumer_->member_id(); }

 private:
  std::unique_ptr<kappa::consumer> consumer_;
  std::string topic_, group_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  clock_type::time_point last_callback_{};
  int callbacks_ = 0;
  std::set<kappa::topic_partition> owned_;
};

// describe_group shows `members` members, all Stable, the group Stable, and
// each of `partitions` partitions assigned exactly once.
bool settled(kappa::admin& admin, const std::string& group, size_t members, int partitions) {
  auto d = admin.describe_group(group);
  if (!d.ok() || d.value().state != "Stable" || d.value().members.size() != members) return false;
  std::set<kappa::topic_partition> seen;
  size_t total = 0;
  for (const auto& m : d.value().members) {
    if (m.state != "Stable") return false;
    seen.insert(m.assignment.begin(), m.assignment.end());
    total += m.assignment.size();
  }
  return int(seen.size()) == partitions && total == seen.size();
}

struct join_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "group-bench-join";
  int partitions = 100;
  int members = 10;
  int trials = 5;
};

int run_join(const join_options& o) {
  auto admin_r = kappa::admin::create(client_config(o.bootstrap));
  if (!admin_r.ok()) return fail(admin_r.status().message());
  auto& admin = *admin_r.value();
  std::string err;
  if (!ensure_topic(admin, o.topic, o.partitions, err)) return fail(err);
  std::vector<double> settle_ms, callbacks_ms;
  for (int trial = 1; trial <= o.trials; ++trial) {
    const std::string group = o.topic + "-" + std::to_string(::getpid()) + "-" + std::to_string(trial);
    std::vector<std::unique_ptr<member>> members;
    for (int i = 0; i < o.members; ++i) {
      members.push_back(std::make_unique<member>(o.bootstrap, o.topic, group, "m" + std::to_string(i),
                                                 kappa::offset_reset::latest));
      members.back()->start();
    }
    const auto base_deadline = clock_type::now() + 60s;
    while (!settled(admin, group, members.size(), o.partitions)) {
      if (clock_type::now() > base_deadline) return fail("the group of " + std::to_string(o.members) +
                                                         " did not settle within 60 s");
      std::this_thread::sleep_for(20ms);
    }
    auto joiner = std::make_unique<member>(o.bootstrap, o.topic, group, "joiner", kappa::offset_reset::latest);
    const auto t0 = clock_type::now();
    joiner->start();
    members.push_back(std::move(joiner));
    while (!settled(admin, group, members.size(), o.partitions)) {
      if (ms_since(t0) > 60000) return fail("the join did not settle within 60 s");
      std::this_thread::sleep_for(2ms);
    }
    const double settle = ms_since(t0);
    std::string spread;  // partitions per member as describe_group shows them
    if (auto d = admin.describe_group(group); d.ok()) {
      for (const auto& m : d.value().members) {
        spread += (spread.empty() ? "" : " ") + m.client_id + "=" + std::to_string(m.assignment.size());
      }
    }
    clock_type::time_point last{};
    for (const auto& m : members) last = std::max(last, m->last_callback());
    const double callbacks = std::chrono::duration<double, std::milli>(last - t0).count();
    settle_ms.push_back(settle);
    callbacks_ms.push_back(callbacks);
    std::printf("join trial %d: %d -> %d members over %d partitions: describe_group Stable after %.1f ms, "
                "last assignment callback after %.1f ms (joiner owns %zu; assignment sizes: %s)\n",
                trial, o.members, o.members + 1, o.partitions, settle, callbacks, members.back()->owned(),
                spread.c_str());
    std::fflush(stdout);
    for (auto& m : members) m->stop();
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("{\"mode\":\"join\",\"members\":%d,\"partitions\":%d,\"trials\":%d,\"settle_ms_median\":%.1f,"
              "\"settle_ms_max\":%.1f,\"callbacks_ms_median\":%.1f,\"callbacks_ms_max\":%.1f}\n",
              o.members, o.partitions, o.trials, median(settle_ms),
              *std::max_element(settle_ms.begin(), settle_ms.end()), median(callbacks_ms),
              *std::max_element(callbacks_ms.begin(), callbacks_ms.end()));
  return 0;
}

struct throughput_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "group-bench-tput";
  int partitions = 8;
  int64_t records = 1000000;
  int record_size = 1024;
  int consumers = 4;
  int rounds = 2;
};

// Fills the topic up to `records` records (round robin over partitions).
bool fill(const throughput_options& o, kappa::admin& admin, std::string& err) {
  std::vector<std::pair<kappa::topic_partition, int64_t>> specs;
  for (int p = 0; p < o.partitions; ++p) specs.push_back({{o.topic, p}, kappa::kLatestOffsetSpec});
  auto ends = admin.list_offsets(specs);
  if (!ends.ok()) {
    err = ends.status().message();
    return false;
  }
  int64_t have = 0;
  for (const auto& e : ends.value()) have += std::max<int64_t>(0, e.offset);
  if (have >= o.records) return true;
  kappa::producer_config pc;
  pc.client = client_config(o.bootstrap);
  pc.required_acks = kappa::acks::leader;
  pc.linger_ms = 5;
  auto p = kappa::producer::create(pc);
  if (!p.ok()) {
    err = p.status().message();
    return false;
  }
  const std::string value(size_t(o.record_size), 'x');
  std::atomic<int64_t> failed{0};
  for (int64_t i = have; i < o.records; ++i) {
    p.value()->send({.topic = o.topic, .partition = int32_t(i % o.partitions), .value = value},
                    [&failed](const kappa::delivery_report& r) {
                      if (!r.ok()) ++failed;
                    });
  }
  auto s = p.value()->flush();
  if (!s.ok() || failed > 0) {
    err = "fill: " + std::to_string(failed.load()) + " records failed " + s.message();
    return false;
  }
  return true;
}

struct read_result {
  double seconds_total = 0;       // from start (assign / subscribe) to the last record
  double seconds_from_first = 0;  // from the first record to the last
  // From the moment every consumer holds its final share of the partitions
  // (partitions / consumers; at once for assign()) to the last record.
  double seconds_balanced = 0;
  int64_t records_balanced = 0;
  int64_t records = 0;
  int64_t bytes = 0;
  std::vector<int64_t> per_consumer;  // records each consumer read
};

// Reads every partition up to `ends` with the consumers; `group` empty =
// manual assignment (partition p to consumer p % n).
bool read_all(const throughput_options& o, const std::map<int32_t, int64_t>& ends, const std::string& group,
              read_result& out, std::string& err) {
  std::vector<std::unique_ptr<kappa::consumer>> consumers;
  for (int i = 0; i < o.consumers; ++i) {
    kappa::consumer_config cfg;
    cfg.client = client_config(o.bootstrap);
    cfg.auto_offset_reset = kappa::offset_reset::earliest;
    cfg.client_id = "tput-" + std::to_string(i);
    auto c = kappa::consumer::create(cfg);
    if (!c.ok()) {
      err = c.status().message();
      return false;
    }
    consumers.push_back(std::move(c).value());
  }
  std::mutex mu;
  std::map<int32_t, int64_t> next;  // per partition, the next offset seen
  std::atomic<int64_t> records{0}, bytes{0};
  std::vector<std::atomic<int64_t>> per_consumer(size_t(o.consumers));
  std::atomic<int> partitions_done{0};
  std::atomic<bool> failed{false};
  clock_type::time_point first{}, last{}, balanced_at{};
  std::vector<char> balanced(size_t(o.consumers), 0);
  int balanced_count = 0;
  int64_t records_at_balance = 0;
  const size_t share = size_t(o.partitions / o.consumers);
  const auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < o.consumers; ++i) {
    threads.emplace_back([&, i] {
      auto& c = *consumers[size_t(i)];
      if (group.empty()) {
        std::vector<kappa::topic_partition> mine;
        for (int p = i; p < o.partitions; p += o.consumers) mine.push_back({o.topic, p});
        if (!c.assign(mine).ok() || !c.seek_to_beginning(mine).ok()) {
          failed = true;
          return;
        }
      } else if (!c.subscribe({o.topic}, group).ok()) {
        failed = true;
        return;
      }
      while (partitions_done < o.partitions && !failed && ms_since(t0) < 600000) {
        auto r = c.poll(100);
        if (!balanced[size_t(i)] && c.assignment().size() == share) {
          std::lock_guard g(mu);
          balanced[size_t(i)] = 1;
          if (++balanced_count == o.consumers) {
            balanced_at = clock_type::now();
            records_at_balance = records;
          }
        }
        if (!r.ok() || r.value().empty()) continue;
        int64_t b = 0;
        for (const auto& rec : r.value()) b += int64_t(rec.value ? rec.value->size() : 0);
        records += int64_t(r.value().size());
        per_consumer[size_t(i)] += int64_t(r.value().size());
        bytes += b;
        std::lock_guard g(mu);
        const auto now = clock_type::now();
        if (first == clock_type::time_point{}) first = now;
        last = now;
        std::map<int32_t, int64_t> top;
        for (const auto& rec : r.value()) top[rec.partition] = std::max(top[rec.partition], rec.offset + 1);
        for (const auto& [p, n] : top) {
          const int64_t before = next[p];
          next[p] = std::max(before, n);
          if (before < ends.at(p) && next[p] >= ends.at(p)) ++partitions_done;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& c : consumers) c->close();
  if (failed || partitions_done < o.partitions) {
    err = "read did not finish (" + std::to_string(partitions_done.load()) + " of " + std::to_string(o.partitions) +
          " partitions read to their end)";
    return false;
  }
  for (const auto& n : per_consumer) out.per_consumer.push_back(n);
  out.records = records;
  out.bytes = bytes;
  out.seconds_total = std::chrono::duration<double>(last - t0).count();
  out.seconds_from_first = std::chrono::duration<double>(last - first).count();
  if (balanced_count == o.consumers && balanced_at < last) {
    out.seconds_balanced = std::chrono::duration<double>(last - balanced_at).count();
    out.records_balanced = records - records_at_balance;
  }
  return true;
}

int run_throughput(const throughput_options& o) {
  auto admin_r = kappa::admin::create(client_config(o.bootstrap));
  if (!admin_r.ok()) return fail(admin_r.status().message());
  auto& admin = *admin_r.value();
  std::string err;
  if (!ensure_topic(admin, o.topic, o.partitions, err)) return fail(err);
  if (!fill(o, admin, err)) return fail(err);
  std::vector<std::pair<kappa::topic_partition, int64_t>> specs;
  for (int p = 0; p < o.partitions; ++p) specs.push_back({{o.topic, p}, kappa::kLatestOffsetSpec});
  auto listed = admin.list_offsets(specs);
  if (!listed.ok()) return fail(listed.status().message());
  std::map<int32_t, int64_t> ends;
  for (const auto& e : listed.value()) ends[e.tp.partition] = e.offset;
  std::vector<double> manual_rate, group_rate, group_rate_total, group_rate_balanced;
  for (int round = 1; round <= o.rounds; ++round) {
    read_result m, g;
    if (!read_all(o, ends, "", m, err)) return fail("manual: " + err);
    const std::string group = "group-bench-tput-" + std::to_string(::getpid()) + "-" + std::to_string(round);
    if (!read_all(o, ends, group, g, err)) return fail("group: " + err);
    manual_rate.push_back(m.records / m.seconds_total);
    group_rate.push_back(g.records / g.seconds_from_first);
    group_rate_total.push_back(g.records / g.seconds_total);
    const double balanced_rate = g.seconds_balanced > 0 ? g.records_balanced / g.seconds_balanced : 0;
    group_rate_balanced.push_back(balanced_rate);
    std::printf("throughput round %d: manual %lld records in %.2f s = %.0f records/s (%.1f MB/s); group %lld "
                "records in %.2f s from subscribe = %.0f records/s, %.2f s from the first record = %.0f records/s "
                "(%.1f MB/s)\n",
                round, (long long)m.records, m.seconds_total, m.records / m.seconds_total,
                m.bytes / 1e6 / m.seconds_total, (long long)g.records, g.seconds_total,
                g.records / g.seconds_total, g.seconds_from_first, g.records / g.seconds_from_first,
                g.bytes / 1e6 / g.seconds_from_first);
    std::string split;
    for (size_t i = 0; i < g.per_consumer.size(); ++i) {
      split += (i ? "/" : "") + std::to_string(g.per_consumer[i]);
    }
    std::printf("  records per group member: %s; once balanced (partitions / consumers each): %lld records in %.2f s = %.0f "
                "records/s\n",
                split.c_str(), (long long)g.records_balanced, g.seconds_balanced, balanced_rate);
    std::fflush(stdout);
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / double(v.size());
  };
  std::printf("{\"mode\":\"throughput\",\"consumers\":%d,\"partitions\":%d,\"records\":%lld,\"record_size\":%d,"
              "\"rounds\":%d,\"manual_records_per_s\":%.0f,\"group_records_per_s\":%.0f,"
              "\"group_records_per_s_incl_join\":%.0f,\"group_records_per_s_balanced\":%.0f,\"ratio\":%.3f,"
              "\"ratio_incl_join\":%.3f,\"ratio_balanced\":%.3f}\n",
              o.consumers, o.partitions, (long long)o.records, o.record_size, o.rounds, mean(manual_rate),
              mean(group_rate), mean(group_rate_total), mean(group_rate_balanced),
              mean(group_rate) / mean(manual_rate), mean(group_rate_total) / mean(manual_rate),
              mean(group_rate_balanced) / mean(manual_rate));
  return 0;
}

struct idle_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "group-bench-idle";
  std::string prefix = "idle";
  int groups = 10000;
  int threads = 8;
  int kappad_pid = 0;
  int settle_s = 5;
};

int run_idle(const idle_options& o) {
  auto admin_r = kappa::admin::create(client_config(o.bootstrap));
  if (!admin_r.ok()) return fail(admin_r.status().message());
  std::string err;
  if (!ensure_topic(*admin_r.value(), o.topic, 1, err)) return fail(err);
  // The first FindCoordinator creates __consumer_offsets: do that before the
  // "before" RSS, so the figure is the groups' cost, not the topic's.
  {
    auto r = admin_r.value()->alter_group_offsets(o.prefix + "-warmup", {{{o.topic, 0}, 0}});
    if (!r.ok()) return fail("warm-up commit: " + r.status().message());
  }
  std::this_thread::sleep_for(std::chrono::seconds(o.settle_s));
  const int64_t before = o.kappad_pid > 0 ? rss_kib(o.kappad_pid) : -1;
  std::atomic<int> next{0}, failed{0};
  std::string first_error;
  std::mutex mu;
  const auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&] {
      auto a = kappa::admin::create(client_config(o.bootstrap));
      if (!a.ok()) {
        ++failed;
        return;
      }
      for (int i = next++; i < o.groups; i = next++) {
        auto r = a.value()->alter_group_offsets(o.prefix + "-" + std::to_string(i), {{{o.topic, 0}, 0}});
        bool ok = r.ok();
        if (ok) {
          for (const auto& p : r.value()) ok = ok && p.status.ok();
        }
        if (!ok) {
          ++failed;
          std::lock_guard g(mu);
          if (first_error.empty()) first_error = r.ok() ? "a partition failed" : r.status().message();
        }
        if ((i + 1) % 1000 == 0) {
          std::printf("  %d groups committed, %.1f s\n", i + 1, ms_since(t0) / 1000);
          std::fflush(stdout);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = ms_since(t0) / 1000;
  if (failed > 0) return fail(std::to_string(failed.load()) + " commits failed, first: " + first_error);
  std::this_thread::sleep_for(std::chrono::seconds(o.settle_s));
  const int64_t after = o.kappad_pid > 0 ? rss_kib(o.kappad_pid) : -1;
  auto listed = admin_r.value()->list_groups();
  size_t listed_groups = listed.ok() ? listed.value().size() : 0;
  std::printf("idle groups: %d groups created (one commit each) in %.1f s; list_groups sees %zu; kappad RSS "
              "%lld KiB before, %lld KiB after: %+.1f MiB\n",
              o.groups, seconds, listed_groups, (long long)before, (long long)after,
              before >= 0 && after >= 0 ? (after - before) / 1024.0 : 0.0);
  std::printf("{\"mode\":\"idle-groups\",\"groups\":%d,\"seconds\":%.1f,\"listed\":%zu,\"rss_before_kib\":%lld,"
              "\"rss_after_kib\":%lld,\"rss_delta_mib\":%.1f}\n",
              o.groups, seconds, listed_groups, (long long)before, (long long)after,
              before >= 0 && after >= 0 ? (after - before) / 1024.0 : -1.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("kappa-group-bench: consumer-group benchmarks (join settle time, group vs manual "
               "throughput, idle group memory)",
               "kappa-group-bench");
  app.require_subcommand(1);
  std::string bootstrap = "127.0.0.1:9092";
  if (const char* b = std::getenv("KAPPA_BOOTSTRAP")) bootstrap = b;
  int exit_code = 0;

  join_options jo;
  auto* join = app.add_subcommand("join", "time for one member joining a group of N over P partitions to settle");
  join->add_option("-b,--bootstrap", bootstrap, "brokers (or $KAPPA_BOOTSTRAP)");
  join->add_option("--topic", jo.topic)->capture_default_str();
  join->add_option("--partitions", jo.partitions)->capture_default_str();
  join->add_option("--members", jo.members, "members before the join")->capture_default_str();
  join->add_option("--trials", jo.trials)->capture_default_str();
  join->callback([&] {
    jo.bootstrap = bootstrap;
    exit_code = run_join(jo);
  });

  throughput_options to;
  auto* tput = app.add_subcommand("throughput", "group members vs manually assigned consumers reading one topic");
  tput->add_option("-b,--bootstrap", bootstrap, "brokers (or $KAPPA_BOOTSTRAP)");
  tput->add_option("--topic", to.topic)->capture_default_str();
  tput->add_option("--partitions", to.partitions)->capture_default_str();
  tput->add_option("--num-records", to.records, "records in the topic (filled up to this)")->capture_default_str();
  tput->add_option("--record-size", to.record_size)->capture_default_str();
  tput->add_option("--consumers", to.consumers)->capture_default_str();
  tput->add_option("--rounds", to.rounds, "manual then group, this many times")->capture_default_str();
  tput->callback([&] {
    to.bootstrap = bootstrap;
    exit_code = run_throughput(to);
  });

  idle_options io;
  auto* idle = app.add_subcommand("idle-groups", "create N groups with one commit each; kappad RSS before/after");
  idle->add_option("-b,--bootstrap", bootstrap, "brokers (or $KAPPA_BOOTSTRAP)");
  idle->add_option("--topic", io.topic)->capture_default_str();
  idle->add_option("--groups", io.groups)->capture_default_str();
  idle->add_option("--prefix", io.prefix, "group ids are <prefix>-<i>")->capture_default_str();
  idle->add_option("--threads", io.threads)->capture_default_str();
  idle->add_option("--kappad-pid", io.kappad_pid, "read this process's VmRSS before and after");
  idle->add_option("--settle-s", io.settle_s, "wait before each RSS reading")->capture_default_str();
  idle->callback([&] {
    io.bootstrap = bootstrap;
    exit_code = run_idle(io);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "kappa-group-bench: %s (run with --help for usage)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return exit_code;
}
