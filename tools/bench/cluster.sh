#!/usr/bin/env bash
# Cluster benchmarks of issue 4 (BENCHMARKS.md "Three brokers"): in ONE run, on
# this machine, a single broker with acks=1 as the reference, then three
# brokers on loopback (deploy/local-cluster.sh, replication factor 3, 1 KiB
# records, flush.policy=always): acks=all throughput, e2e latency at 5,000
# records/s, failover time (SIGKILL the leader of partition 0 -> first acks=all
# produce accepted) over N trials, and idle CPU with 1,000 partitions.
#
#   tools/bench/cluster.sh [TRIALS]      (default 20)
# Environment: KAPPA_BENCH_BUILD (default ./build), KAPPA_BENCH_DIR (scratch).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${KAPPA_BENCH_BUILD:-$ROOT/build}
D=${KAPPA_BENCH_DIR:-/tmp/kappa-bench-cluster}
TRIALS=${1:-20}
K=$B/tools/kappactl
LC="$ROOT/deploy/local-cluster.sh"
export KAPPAD=$B/broker/kappad KAPPACTL=$K KAPPA_CLUSTER_DIR=$D/cluster
rm -rf "$D"; mkdir -p "$D"
echo "== start $(date -u +%FT%TZ); $(uptime)"

echo "== reference: one broker, acks=1, flush=always, 16 partitions"
$B/broker/kappad --listen 127.0.0.1:49092 --data-dir "$D/single" --metrics-listen '' --log-level warn >"$D/single.log" 2>&1 &
SPID=$!
sleep 2
$B/tools/kappa-bench produce -b 127.0.0.1:49092 --topic ref --partitions 16 --num-records 300000 \
  --record-size 1024 --acks 1 --topic-config flush.policy=always --json
kill $SPID; wait $SPID

"$LC" start 3 >/dev/null || exit 1
export KAPPA_BOOTSTRAP=127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:39092
echo "== three brokers, rf 3, acks=all, flush=always, 16 partitions"
$B/tools/kappa-bench produce --topic all16 --partitions 16 --num-records 300000 --record-size 1024 \
  --acks all --topic-config flush.policy=always --json
echo "== three brokers, e2e at 5,000 records/s, acks=all"
$B/tools/kappa-bench e2e --topic e2e --num-records 50000 --throughput 5000 --record-size 1024 \
  --acks all --linger-ms 1 --json

echo "== failover: $TRIALS trials (SIGKILL the leader of fo-0, time to the first acks=all produce)"
$K topic create fo --partitions 1 --replication-factor 3 >/dev/null
for ((t = 1; t <= TRIALS; t++)); do
  leader=$($K cluster describe --output json | python3 -c '
import json,sys
d=json.load(sys.stdin)
for p in d.get("partitions", []):
    if p.get("topic")=="fo" and p.get("partition")==0: print(p.get("leader")); break')
  [[ $leader =~ ^[1-3]$ ]] || { echo "trial $t: no leader ($leader)"; sleep 2; continue; }
  "$LC" kill "$leader" >/dev/null
  t0=$(date +%s%N)
  until echo "x" | $K produce fo --partition 0 --acks all --timeout-ms 500 >/dev/null 2>&1; do
    (( $(date +%s%N) - t0 > 30000000000 )) && break
  done
  t1=$(date +%s%N)
  echo "trial $t: leader $leader killed, first acks=all produce after $(( (t1 - t0) / 1000000 )) ms"
  "$LC" restart "$leader" >/dev/null
  sleep 3
done

echo "== idle CPU with 1,000 partitions (rf 3) on three brokers, over 30 s"
$K topic create idle --partitions 1000 --replication-factor 3 --timeout-ms 120000 >/dev/null
sleep 15
for id in 1 2 3; do
  pid=$(cat "$D/cluster/$id/kappad.pid")
  a=$(awk '{print $14+$15}' /proc/$pid/stat)
  sleep 30 &
  pids[$id]=$pid; start[$id]=$a
done
wait
for id in 1 2 3; do
  b=$(awk '{print $14+$15}' /proc/${pids[$id]}/stat)
  echo "broker $id: $(( (b - start[$id]) * 100 / (30 * $(getconf CLK_TCK)) ))% of a core idle"
done
"$LC" stop >/dev/null
echo "== end $(date -u +%FT%TZ); $(uptime)"
