// The broker's thread pools. Included only by .cc files: it pulls in Asio.
//
//  - workers: sized to the cores; runs partition strands (appends, producer
//    state), long-poll timers and everything taken off the gRPC threads.
//  - flushers: runs log fsyncs, which block; kept apart so a slow disk never
//    stalls appends or reads.
//  - admin: topic creation/deletion, config changes, producer id blocks
//    (metadata writes that fsync, and deletes that wait for partitions to
//    retire). Apart from the flushers, so an admin call waiting on a
//    partition can never hold the thread that partition's fsync needs.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/post.hpp>

namespace kappa::broker {

namespace asio = boost::asio;
using strand_t = asio::strand<asio::thread_pool::executor_type>;

struct runtime {
  runtime(int worker_threads, int flush_threads)
      : workers(size_t(worker_threads)), flushers(size_t(flush_threads)), admin(2) {}
  asio::thread_pool workers;
  asio::thread_pool flushers;
  asio::thread_pool admin;
};

}  // namespace kappa::broker
