// The transport ceiling for the client benchmarks: raw gRPC streaming of the
// same payload through an in-process server on 127.0.0.1:0, with no broker
// behind it. Upload streams `count` messages of `message_bytes` into a null
// sink (as a producer streams batches); download streams them out of a null
// source (as a broker answers fetches). Both use gRPC's generic (ByteBuffer)
// callback API, so no protobuf encoding is counted: this is the ceiling.
// gRPC stays out of this header.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/format/result.h"
#include "tools/kappa_bench/bench_util.h"

namespace kappa::bench {

// `streams` concurrent streams, each carrying count / streams messages.
// REQUIRES: 0 < message_bytes <= 4 MiB (gRPC's default message limit).
Result<throughput> grpc_upload_baseline(size_t message_bytes, uint64_t count, int streams);
Result<throughput> grpc_download_baseline(size_t message_bytes, uint64_t count, int streams);

}  // namespace kappa::bench
