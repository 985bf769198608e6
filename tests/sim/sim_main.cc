// kappa-sim: runs many seeds of the Raft simulation (`make sim`).
//   kappa-sim --seeds N --start S   runs seeds S .. S+N-1
//   kappa-sim --seed S [--trace]    replays one seed
// Exits non-zero at the first failing seed, after printing it.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "tests/sim/sim_run.h"

int main(int argc, char** argv) {
  using namespace kappa::raft::sim;
  uint64_t start = 1, seeds = 1000;
  run_options opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return std::stoull(argv[++i]);
    };
    if (a == "--seeds") {
      seeds = next();
    } else if (a == "--start") {
      start = next();
    } else if (a == "--seed") {
      start = next();
      seeds = 1;
    } else if (a == "--trace") {
      opts.trace = true;
    } else if (a == "--fault-ticks") {
      opts.fault_ticks = static_cast<int>(next());
    } else {
      std::cerr << "usage: kappa-sim [--seeds N] [--start S] [--seed S] [--trace] "
                   "[--fault-ticks T]\n";
      return 2;
    }
  }
  install_abort_reporter();
  int64_t committed = 0, steps = 0;
  run_counts counts;
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    run_result r = run_seed(seed, opts);
    if (!r.ok) {
      std::cerr << failure_report(r);
      return 1;
    }
    committed += r.committed;
    counts.add(r.counts);
    steps += static_cast<int64_t>(r.step);
    if ((seed - start + 1) % 100 == 0 || seeds == 1) {
      std::cout << "sim: " << seed - start + 1 << " seeds ok (last " << seed << "), " << steps
                << " steps, " << committed << " entries committed" << std::endl;
    }
  }
  std::cout << "sim: seeds [" << start << ", " << start + seeds << ") all ok: " << steps
            << " steps, " << committed << " entries committed; " << counts.to_string() << std::endl;
  return 0;
}
