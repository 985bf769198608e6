// The bounded simulation of `make test`: a fixed range of seeds, split in
// two test cases so ctest can run them on both cores. KAPPA_SIM_SEED=S (or
// sim_tests --seed S) replays one seed instead; KAPPA_SIM_TRACE=1 prints
// every step.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/sim/sim_run.h"

namespace kappa::raft::sim {
namespace {

// Seeds per test case, measured: 5,000 seeds (a mean of ~750 fault ticks
// each) take about 30 s in a Release build on this two-core machine, so the
// two cases together cost about 60 s of CPU. Debug builds run under ASan
// and UBSan, about fifty times slower (measured): they run 100 seeds a case,
// about 30 s each.
#ifdef KAPPA_SIM_DEBUG_BUILD
constexpr uint64_t seeds_per_case = 100;
#else
constexpr uint64_t seeds_per_case = 5000;
#endif

bool replay_requested() {
  return std::getenv("KAPPA_SIM_SEED") != nullptr;
}

void run_batch(uint64_t first, uint64_t count) {
  install_abort_reporter();
  run_options opts;
  if (const char* s = std::getenv("KAPPA_SIM_SEED")) {
    first = std::stoull(s);
    count = 1;
    opts.trace = std::getenv("KAPPA_SIM_TRACE") != nullptr;
  }
  int64_t committed = 0;
  run_counts counts;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    run_result r = run_seed(seed, opts);
    if (!r.ok) FAIL(failure_report(r));
    committed += r.committed;
    counts.add(r.counts);
    if (count == 1) {
      std::cout << "sim: seed " << seed << " ok: " << r.replicas << " replicas, " << r.step
                << " steps, " << r.committed << " entries committed\n";
    }
  }
  std::cout << "sim: seeds [" << first << ", " << first + count << ") ok, " << committed
            << " entries committed; " << counts.to_string() << "\n";
  // The batch must have exercised what it claims to.
  if (count > 20) {
    CHECK(counts.crashes > 0);
    CHECK(counts.mid_ready_crashes > 0);
    CHECK(counts.partitions > 0);
    CHECK(counts.transfers > 0);
    CHECK(counts.membership_changes > 0);
    CHECK(counts.truncations > 0);
    CHECK(counts.compactions > 0);
    CHECK(counts.log_restarts > 0);
    CHECK(counts.damages > 0);
  }
}

TEST_CASE("seeded simulation keeps Raft's invariants: first half of the seeds", "[sim]") {
  run_batch(1, seeds_per_case);
}

TEST_CASE("seeded simulation keeps Raft's invariants: second half of the seeds", "[sim]") {
  if (replay_requested()) return;  // the first case replays the seed
  run_batch(1 + seeds_per_case, seeds_per_case);
}

TEST_CASE("the same seed replays the same run", "[sim]") {
  run_options opts;
  run_result a = run_seed(42, opts), b = run_seed(42, opts);
  REQUIRE(a.ok);
  REQUIRE(a.step == b.step);
  REQUIRE(a.committed == b.committed);
}

}  // namespace
}  // namespace kappa::raft::sim
