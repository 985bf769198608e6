// One seeded simulation run: a fault phase (lossy, partitioned network,
// crashes, restarts, transfers, membership changes, client proposals), then
// a healing phase that must elect a leader and commit a proposal within a
// bounded number of ticks. The invariants are checked after every step.
#pragma once

#include <cstdint>
#include <string>

namespace kappa::raft::sim {

struct run_options {
  // Ticks of the fault phase; 0 draws it from the seed (mostly short runs,
  // some long ones), so that a seed alone replays a run.
  int fault_ticks = 0;
  int liveness_ticks = 400;  // after healing, a proposal must commit within this
  bool trace = false;        // print every step (for replaying one seed)
};

// What a run exercised, so a batch can show its faults really happened.
struct run_counts {
  uint64_t crashes = 0, mid_ready_crashes = 0, restarts = 0, partitions = 0;
  uint64_t transfers = 0, membership_changes = 0, truncations = 0, max_term = 0;
  uint64_t compactions = 0, log_restarts = 0;  // retention; install_start restarts
  uint64_t damages = 0;  // restarts after a damaged log range (no_vote_until)
  void add(const run_counts& o);
  std::string to_string() const;
};

struct run_result {
  bool ok = true;
  uint64_t seed = 0;
  uint64_t step = 0;    // the step that failed, or the number of steps run
  std::string failure;  // what broke, and the cluster at that step
  int replicas = 0;     // the initial group size (3 or 5)
  int fault_ticks = 0;
  bool fault_ticks_overridden = false;  // the replay needs --fault-ticks too
  int64_t committed = 0;                // entries committed by the end
  run_counts counts;
};

run_result run_seed(uint64_t seed, const run_options& opts = {});

// Prints the seed and step of the run in progress if the process dies on an
// assertion inside the core (SIGABRT), so even a crash can be replayed.
void install_abort_reporter();

// The one-line summary of a failure, with the replay command.
std::string failure_report(const run_result& r);

}  // namespace kappa::raft::sim
