#!/usr/bin/env bash
# Consumer-group benchmarks of issue 5 (BENCHMARKS.md "Consumer groups"), in
# one run against fresh single-broker kappads (Release binaries):
#   1. join: one member joins a group of 10 over 100 partitions; time until
#      describe_group shows the group settled (target <= 1 s), TRIALS trials;
#   2. throughput: 4 group members vs 4 manually assigned consumers reading
#      the same topic (target group >= 0.9x manual), ROUNDS rounds;
#   3. idle groups: kappad RSS before/after 10,000 groups with one commit
#      each (target <= 200 MiB), on a broker that does nothing else.
#
#   tools/bench/groups.sh [TRIALS] [ROUNDS]     (default 5 and 2)
# Environment: KAPPA_BENCH_BUILD (the Release build dir, default
# <repo>/build-bench; it needs kappad and kappa-group-bench),
# KAPPA_BENCH_DIR (scratch, default /tmp/kappa-bench-groups; ~1.2 GB),
# GROUP_BENCH_RECORDS (records of the throughput topic, default 1000000 of
# 1 KiB), KAPPAD_EXTRA_FLAGS (appended to every kappad's flags, e.g.
# "--group-heartbeat-interval-ms 500").
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${KAPPA_BENCH_BUILD:-$ROOT/build-bench}
D=${KAPPA_BENCH_DIR:-/tmp/kappa-bench-groups}
TRIALS=${1:-5}
ROUNDS=${2:-2}
RECORDS=${GROUP_BENCH_RECORDS:-1000000}
GB=$B/tools/bench/kappa-group-bench
for bin in "$B/broker/kappad" "$GB"; do
  [[ -x $bin ]] || { echo "groups.sh: $bin not built (ninja -C $B kappad kappa-group-bench)" >&2; exit 1; }
done
rm -rf "$D"; mkdir -p "$D"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT

# start_broker NAME PORT: a fresh kappad on 127.0.0.1:PORT; sets KPID.
start_broker() {
  # shellcheck disable=SC2086
  "$B/broker/kappad" --listen "127.0.0.1:$2" --data-dir "$D/$1" --metrics-listen '' --log-level warn \
    ${KAPPAD_EXTRA_FLAGS:-} >"$D/$1.log" 2>&1 &
  KPID=$!
  PIDS+=("$KPID")
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "groups.sh: kappad $1 did not listen on $2 (see $D/$1.log)" >&2
  exit 1
}

echo "== start $(date -u +%FT%TZ); commit $(git -C "$ROOT" rev-parse --short HEAD); $(nproc) cores; $(uptime)"
echo "== kappad extra flags: ${KAPPAD_EXTRA_FLAGS:-none}"

start_broker work 39192
echo "== join: 10 -> 11 members over 100 partitions, $TRIALS trials $(uptime)"
"$GB" join -b 127.0.0.1:39192 --members 10 --partitions 100 --trials "$TRIALS" || exit 1
echo "== throughput: 4 group members vs 4 assigned consumers, $RECORDS x 1 KiB over 8 partitions $(uptime)"
"$GB" throughput -b 127.0.0.1:39192 --consumers 4 --partitions 8 --num-records "$RECORDS" \
  --record-size 1024 --rounds "$ROUNDS" || exit 1
kill "$KPID"; wait "$KPID" 2>/dev/null

start_broker idle 39193
echo "== idle groups: 10,000 groups, one commit each, kappad RSS before/after $(uptime)"
"$GB" idle-groups -b 127.0.0.1:39193 --groups 10000 --kappad-pid "$KPID" || exit 1
echo "== end $(date -u +%FT%TZ); $(uptime)"
