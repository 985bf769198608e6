// kappad: the Kappa broker, a cluster member (alone, a one-node cluster).
// Startup: flags, logging, metrics, data dir (locked: a second kappad on it
// exits at once), the cluster machinery (transport, controller, internal
// listener; see partition_manager.h), the client gRPC server. SIGTERM/SIGINT: stop accepting, let in-flight calls finish,
// flush, snapshot producer state, close every log cleanly, exit 0.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "broker/config.h"
#include "broker/metrics.h"
#include "broker/partition_manager.h"
#include "broker/server.h"

namespace {

constexpr int64_t kShutdownGraceMs = 5000;

int fail(const std::string& what) {
  spdlog::critical("{}", what);
  std::fprintf(stderr, "kappad: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kappa::broker;
  parse_outcome parsed = parse_flags(argc, argv);
  if (parsed.should_exit) return parsed.exit_code;
  const broker_config& config = parsed.config;
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto m = metrics::start(config.metrics_listen);
  if (!m.ok()) return fail(m.status().message());
  auto pm = partition_manager::open(config, **m);
  if (!pm.ok()) {
    return fail("cannot start the broker (data dir " + config.data_dir +
                "): " + pm.status().message());
  }
  auto srv = server::start(**pm);
  if (!srv.ok()) {
    (void)(*pm)->close();
    return fail(srv.status().message());
  }
  spdlog::info("kappad node {} listening on {} (port {}), data dir {}, metrics on {}",
               config.node_id, config.listen, (*srv)->port(), config.data_dir,
               config.metrics_listen.empty() ? "(off)" : config.metrics_listen);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  (*pm)->begin_shutdown();
  (*srv)->shutdown(kShutdownGraceMs);
  kappa::Status st = (*pm)->close();
  if (!st.ok()) return fail("clean shutdown failed: " + st.message());
  spdlog::info("shut down cleanly");
  return 0;
}
