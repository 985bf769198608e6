#include "broker/metrics.h"

#include <unistd.h>

#include <array>
#include <fstream>
#include <mutex>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "storage/errc.h"

namespace kappa::broker {
namespace {

// Request latencies on one node span 50 us (a metadata call) to seconds (a
// long-poll fetch), hence the wide exponential buckets.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = 50e-6; v < 70; v *= 2) b.push_back(v);
  return b;
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return double(pages_resident) * double(sysconf(_SC_PAGESIZE));
}

// Gauges computed at scrape time: nothing to update on the hot path.
class scrape_collectable final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<partition_sample> samples;
    {
      std::lock_guard lk(mu);
      if (source) samples = source();
    }
    using prometheus::MetricType;
    auto family = [](const char* name, const char* help) {
      prometheus::MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = MetricType::Gauge;
      return f;
    };
    std::array<prometheus::MetricFamily, 7> fs{
        family("kappa_partition_log_start_offset", "First offset still in the log"),
        family("kappa_partition_log_end_offset", "Next offset to assign"),
        family("kappa_partition_high_watermark", "Offsets below it are committed and readable"),
        family("kappa_partition_open_segments", "Segment files of the partition"),
        family("kappa_partition_size_bytes", "Bytes of the partition's segments"),
        family("kappa_partition_leader", "Node id of the partition's leader (-1 unknown)"),
        family("kappa_partition_leader_epoch", "Leader epoch (Raft term) of the partition")};
    int64_t under_replicated = 0;
    for (const auto& s : samples) {
      if (s.is_leader && s.in_sync < s.voters) ++under_replicated;
      const int64_t values[7] = {s.log_start_offset, s.log_end_offset, s.high_watermark,
                                 s.segments,         s.size_bytes,     s.leader,
                                 s.leader_epoch};
      for (size_t i = 0; i < fs.size(); ++i) {
        prometheus::ClientMetric m;
        m.label = {{"partition", std::to_string(s.partition)}, {"topic", s.topic}};
        m.gauge.value = double(values[i]);
        fs[i].metric.push_back(std::move(m));
      }
    }
    std::vector<prometheus::MetricFamily> out(fs.begin(), fs.end());
    auto urp = family("kappa_under_replicated_partitions",
                      "Partitions led by this broker with fewer in-sync replicas than voters");
    prometheus::ClientMetric u;
    u.gauge.value = double(under_replicated);
    urp.metric.push_back(u);
    out.push_back(std::move(urp));
    auto rss = family("kappa_process_resident_memory_bytes", "Resident set size of kappad");
    prometheus::ClientMetric m;
    m.gauge.value = resident_bytes();
    rss.metric.push_back(m);
    out.push_back(std::move(rss));
    collect_groups(out);
    return out;
  }

  void collect_groups(std::vector<prometheus::MetricFamily>& out) const {
    std::vector<group_sample> samples;
    {
      // Under the lock, so set_group_source(nullptr) waits out a scrape
      // before the coordinator goes away.
      std::lock_guard lk(mu);
      if (!group_source) return;
      samples = group_source();
    }
    auto family = [](const char* name, const char* help, prometheus::MetricType type) {
      prometheus::MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = type;
      return f;
    };
    using prometheus::MetricType;
    auto committed = family("kappa_group_committed_offset",
                            "Committed offset of a consumer group on a partition", MetricType::Gauge);
    auto lag = family("kappa_group_lag",
                      "High watermark minus the committed offset of a consumer group",
                      MetricType::Gauge);
    auto state = family("kappa_group_state", "1 for the consumer group's current state",
                        MetricType::Gauge);
    auto members = family("kappa_group_members", "Members of the consumer group", MetricType::Gauge);
    auto rebalances = family("kappa_group_rebalances_total",
                             "Target assignment changes since this coordinator loaded the group",
                             MetricType::Counter);
    for (const auto& g : samples) {
      prometheus::ClientMetric s;
      s.label = {{"group", g.group_id}, {"state", g.state}};
      s.gauge.value = 1;
      state.metric.push_back(std::move(s));
      prometheus::ClientMetric n;
      n.label = {{"group", g.group_id}};
      n.gauge.value = double(g.members);
      members.metric.push_back(std::move(n));
      prometheus::ClientMetric r;
      r.label = {{"group", g.group_id}};
      r.counter.value = double(g.rebalances);
      rebalances.metric.push_back(std::move(r));
      for (const auto& o : g.offsets) {
        prometheus::ClientMetric c;
        c.label = {{"group", g.group_id}, {"partition", std::to_string(o.partition)},
                   {"topic", o.topic}};
        c.gauge.value = double(o.committed);
        committed.metric.push_back(c);
        if (o.lag >= 0) {
          c.gauge.value = double(o.lag);
          lag.metric.push_back(std::move(c));
        }
      }
    }
    for (auto* f : {&committed, &lag, &state, &members, &rebalances}) out.push_back(std::move(*f));
  }

  mutable std::mutex mu;
  std::function<std::vector<partition_sample>()> source;
  std::function<std::vector<group_sample>()> group_source;
};

}  // namespace

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<scrape_collectable> scraped = std::make_shared<scrape_collectable>();
  std::unique_ptr<prometheus::Exposer> exposer;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  std::array<prometheus::Histogram*, size_t(api::count_)> latency{};
  prometheus::Counter* in = nullptr;
  prometheus::Counter* out = nullptr;
  prometheus::Histogram* fsync = nullptr;
  prometheus::Counter* elections = nullptr;
  prometheus::Histogram* group_commit = nullptr;
};

const char* api_name(api a) {
  static constexpr const char* names[] = {
      "Produce", "ProduceStream", "Fetch", "FetchStream", "ListOffsets", "Metadata",
      "InitProducerId", "CreateTopics", "DeleteTopics", "DescribeTopics", "DescribeConfigs",
      "AlterConfigs", "DescribeCluster", "DeleteRecords", "FindCoordinator", "GroupHeartbeat",
      "CommitOffsets", "FetchOffsets", "ListGroups", "DescribeGroup", "DeleteGroup",
      "DeleteOffsets"};
  static_assert(std::size(names) == size_t(api::count_));
  return names[size_t(a)];
}

Result<std::unique_ptr<metrics>> metrics::start(const std::string& listen) {
  auto i = std::make_unique<impl>();
  i->requests = &prometheus::BuildCounter()
                     .Name("kappa_requests_total")
                     .Help("Requests served, by API and gRPC status code")
                     .Register(*i->registry);
  auto& lat = prometheus::BuildHistogram()
                  .Name("kappa_request_latency_seconds")
                  .Help("Request latency by API (streams: per stream)")
                  .Register(*i->registry);
  for (size_t a = 0; a < size_t(api::count_); ++a) {
    i->latency[a] = &lat.Add({{"api", api_name(api(a))}}, latency_buckets());
  }
  i->in = &prometheus::BuildCounter().Name("kappa_bytes_in_total")
               .Help("Record batch bytes appended").Register(*i->registry).Add({});
  i->out = &prometheus::BuildCounter().Name("kappa_bytes_out_total")
                .Help("Record batch bytes sent to fetchers").Register(*i->registry).Add({});
  i->fsync = &prometheus::BuildHistogram().Name("kappa_fsync_latency_seconds")
                  .Help("Latency of one group-committed log fsync").Register(*i->registry)
                  .Add({}, latency_buckets());
  i->elections = &prometheus::BuildCounter().Name("kappa_leader_elections_total")
                      .Help("Times a partition replica on this broker became leader")
                      .Register(*i->registry).Add({});
  i->group_commit = &prometheus::BuildHistogram().Name("kappa_group_commit_latency_seconds")
                         .Help("CommitOffsets latency, up to the commit on __consumer_offsets")
                         .Register(*i->registry).Add({}, latency_buckets());
  if (!listen.empty()) {
    try {
      i->exposer = std::make_unique<prometheus::Exposer>(listen, 2);
    } catch (const std::exception& e) {
      return storage::error(storage::errc::invalid_argument,
                            "cannot serve metrics on " + listen + ": " + e.what());
    }
    i->exposer->RegisterCollectable(i->registry);
    i->exposer->RegisterCollectable(i->scraped);
  }
  return std::unique_ptr<metrics>(new metrics(std::move(i)));
}

metrics::metrics(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
metrics::~metrics() = default;

void metrics::request(api a, double seconds, int grpc_code) {
  impl_->requests->Add({{"api", api_name(a)}, {"code", std::to_string(grpc_code)}}).Increment();
  impl_->latency[size_t(a)]->Observe(seconds);
}
void metrics::bytes_in(uint64_t n) { impl_->in->Increment(double(n)); }
void metrics::bytes_out(uint64_t n) { impl_->out->Increment(double(n)); }
void metrics::fsync(double seconds) { impl_->fsync->Observe(seconds); }
void metrics::leader_elected() { impl_->elections->Increment(); }
void metrics::group_commit(double seconds) { impl_->group_commit->Observe(seconds); }
void metrics::set_group_source(std::function<std::vector<group_sample>()> source) {
  std::lock_guard lk(impl_->scraped->mu);
  impl_->scraped->group_source = std::move(source);
}
void metrics::set_partition_source(std::function<std::vector<partition_sample>()> source) {
  std::lock_guard lk(impl_->scraped->mu);
  impl_->scraped->source = std::move(source);
}

}  // namespace kappa::broker
