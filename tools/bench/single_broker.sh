#!/bin/bash
# One run of the single-broker benchmarks (issue: Single-node broker) against
# Release binaries: RSS with 1,000 idle partitions on a fresh kappad, then
# produce (flush=interval, flush=always), a 2 GiB replay and end-to-end
# latency on another. KAPPA_BENCH_BUILD = the Release build dir (default
# <repo>/build-bench); KAPPA_BENCH_DIR = where the data dirs go (default
# /work/bench-kappa; pick a disk with 4 GB free). Usage: single_broker.sh N
set -u
B=${KAPPA_BENCH_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build-bench}
D=${KAPPA_BENCH_DIR:-/work/bench-kappa}
N=${1:-1}
mkdir -p $D
export KAPPA_BOOTSTRAP=127.0.0.1:29092
echo "== run $N start $(date -u +%FT%TZ); $(uptime)"

# RSS with 1,000 idle partitions: a fresh broker, nothing else on it.
rm -rf $D/data-rss
$B/broker/kappad --listen 127.0.0.1:29093 --data-dir $D/data-rss --metrics-listen 127.0.0.1:29645 --log-level warn > $D/kappad-rss.log 2>&1 &
RPID=$!
sleep 2
echo "RSS before topic: $(grep VmRSS /proc/$RPID/status)"
$B/tools/kappactl topic create idle --partitions 1000 --bootstrap 127.0.0.1:29093
sleep 10
echo "RSS with 1000 idle partitions: $(grep VmRSS /proc/$RPID/status)"
kill $RPID; wait $RPID
rm -rf $D/data-rss

rm -rf $D/data
$B/broker/kappad --listen 127.0.0.1:29092 --data-dir $D/data --metrics-listen 127.0.0.1:29644 --log-level warn > $D/kappad.log 2>&1 &
KPID=$!
sleep 2
echo "== produce acks=1 flush=interval $(uptime)"
$B/tools/kappa-bench produce --topic interval --num-records 1000000 --record-size 1024 --acks 1 --topic-config flush.policy=interval --baseline --json
echo "== produce acks=1 flush=always $(uptime)"
$B/tools/kappa-bench produce --topic always --num-records 500000 --record-size 1024 --acks 1 --topic-config flush.policy=always --baseline --json
echo "== fill replay topic (2 GiB of values) $(uptime)"
$B/tools/kappa-bench produce --topic replay --num-records 2097152 --record-size 1024 --acks 1 --topic-config flush.policy=interval --json
$B/tools/kappactl topic describe replay
echo "== replay $(uptime)"
$B/tools/kappa-bench consume --topic replay --baseline --json
echo "== e2e flush=always (broker default) linger 1 $(uptime)"
$B/tools/kappa-bench e2e --topic e2e-always --num-records 50000 --throughput 5000 --record-size 1024 --acks 1 --linger-ms 1 --json
echo "== e2e flush=interval linger 0 $(uptime)"
$B/tools/kappa-bench e2e --topic e2e-interval --num-records 50000 --throughput 5000 --record-size 1024 --acks 1 --linger-ms 0 --topic-config flush.policy=interval --json
echo "== end $(date -u +%FT%TZ); $(uptime)"
kill $KPID; wait $KPID
rm -rf $D/data
