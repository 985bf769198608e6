// sim_tests' own Catch2 main: it adds `--seed S`, which replays one seed
// (the same as KAPPA_SIM_SEED=S) instead of the bounded batch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  Catch::Session session;
  std::string seed;
  session.cli(session.cli() |
              Catch::clara::Opt(seed, "seed")["--seed"]("replay one simulation seed"));
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  if (!seed.empty()) setenv("KAPPA_SIM_SEED", seed.c_str(), 1);
  return session.run();
}
