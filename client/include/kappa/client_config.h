// Settings shared by producer, consumer and admin: where the cluster is, how
// long to wait, how to back off between retries.
#pragma once

#include <cstdint>
#include <string>

namespace kappa {

struct client_config {
  // One or more "host:port" addresses, comma-separated, tried in turn. Only
  // used to learn the cluster: requests then go to each partition's leader
  // as the Metadata answer (or a leader hint) names it.
  std::string bootstrap = "127.0.0.1:9092";
  // Longest one RPC may take before it is abandoned (and, where safe, retried).
  int64_t request_timeout_ms = 30000;
  // With several brokers to ask, the longest a metadata request waits on one
  // of them before the next is tried: what a dead or unreachable bootstrap
  // address costs.
  int64_t connect_timeout_ms = 5000;
  // Retries back off exponentially from min to max, each wait jittered by
  // +-20% so clients that failed together do not retry together.
  int64_t retry_backoff_min_ms = 100;
  int64_t retry_backoff_max_ms = 1000;
  // gRPC's reconnect backoff for a broker that went away (kept close to the
  // retry backoff so a restarted broker is found quickly).
  int64_t reconnect_backoff_max_ms = 1000;
  // Tracked topics' metadata is refreshed at least this often (leader
  // changes are usually learnt sooner, from errors and leader hints).
  int64_t metadata_max_age_ms = 300000;
};

}  // namespace kappa
