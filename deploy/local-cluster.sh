#!/usr/bin/env bash
# Runs a Kappa cluster of N brokers on loopback (127.0.0.1), one kappad
# process per broker, for trying the cluster out and for manual fault tests.
#
#   deploy/local-cluster.sh start [N]     start brokers 1..N (default 3, at most 5)
#   deploy/local-cluster.sh stop [ID]     SIGTERM (clean shutdown) every broker, or one
#   deploy/local-cluster.sh status        pid, state and addresses of each broker
#   deploy/local-cluster.sh restart ID    stop broker ID if running, start it again
#   deploy/local-cluster.sh kill ID [SIG] send a signal (default KILL) to broker ID
#   deploy/local-cluster.sh wipe          stop everything and delete the data
#
# Layout: ./cluster-data/<id>/ holds kappa.toml (the broker's flags, written at
# its first start and reused by restart), data/ (its partition logs),
# kappad.log and kappad.pid.
#
# Ports of broker <id> (so 1..5 fit under 65536):
#   client API  <id>9092   (19092, 29092, 39092, ...)
#   internal    <id>9093   (broker-to-broker: Raft, controller)
#   metrics     <id>9644
# The controller voters are brokers 1..min(N,3) (KAPPA_VOTERS overrides the count).
#
# Environment: KAPPAD (binary; default ./build/broker/kappad),
# KAPPA_CLUSTER_DIR (default ./cluster-data), KAPPA_VOTERS, KAPPA_RF (default
# replication factor of new topics; default min(N,3)), KAPPA_EXTRA_FLAGS
# (appended to every kappad command line, e.g. "--test-power-loss").
set -euo pipefail

KAPPAD=${KAPPAD:-./build/broker/kappad}
CLUSTER_DIR=${KAPPA_CLUSTER_DIR:-./cluster-data}
KAPPACTL=${KAPPACTL:-$(dirname "$KAPPAD")/../tools/kappactl}
MAX_NODES=5
START_WAIT_S=${KAPPA_START_WAIT_S:-20}
STOP_WAIT_S=${KAPPA_STOP_WAIT_S:-20}

die() { echo "local-cluster: $*" >&2; exit 1; }
client_port() { echo "${1}9092"; }
internal_port() { echo "${1}9093"; }
metrics_port() { echo "${1}9644"; }
node_dir() { echo "$CLUSTER_DIR/$1"; }
pid_of() {
  local f
  f="$(node_dir "$1")/kappad.pid"
  if [[ -f $f ]]; then cat "$f"; fi
}

# True when broker $1's pid file names a live kappad.
running() {
  local pid; pid=$(pid_of "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -q kappad "/proc/$pid/cmdline" 2>/dev/null || return 1
  # A killed broker whose parent is gone may linger as a zombie until reaped.
  [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_ids() {
  [[ -d $CLUSTER_DIR ]] || return 0
  find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9]+' -printf '%f\n' | sort -n
}

check_id() {
  if ! [[ $1 =~ ^[1-9][0-9]*$ ]] || (($1 > MAX_NODES)); then
    die "broker id must be 1..$MAX_NODES, got '$1'"
  fi
}

# Writes ./cluster-data/<id>/kappa.toml for broker $1 of an $2-node cluster.
write_config() {
  local id=$1 n=$2
  local voters_n=${KAPPA_VOTERS:-$((n < 3 ? n : 3))} rf=${KAPPA_RF:-$((n < 3 ? n : 3))}
  local dir voters="" v
  dir=$(node_dir "$id")
  for ((v = 1; v <= voters_n; v++)); do
    voters+="${voters:+,}$v@127.0.0.1:$(internal_port "$v")"
  done
  mkdir -p "$dir/data"
  realpath "$KAPPAD" >"$dir/binary"  # restart uses the same binary
  cat >"$dir/kappa.toml" <<EOF
# Written by deploy/local-cluster.sh for broker $id of a $n-node cluster.
node-id = $id
listen = "127.0.0.1:$(client_port "$id")"
internal-listen = "127.0.0.1:$(internal_port "$id")"
metrics-listen = "127.0.0.1:$(metrics_port "$id")"
controller-voters = "$voters"
data-dir = "$(cd "$dir" && pwd)/data"
default-replication-factor = $rf
EOF
}

start_node() {
  local id=$1 dir pid
  dir=$(node_dir "$id")
  [[ -f $dir/kappa.toml ]] || die "no $dir/kappa.toml: run 'start N' first"
  if running "$id"; then
    echo "broker $id already running (pid $(pid_of "$id"))"
    return 0
  fi
  local port
  for port in "$(client_port "$id")" "$(internal_port "$id")" "$(metrics_port "$id")"; do
    if port_open "$port"; then die "port $port (broker $id) is in use by another process"; fi
  done
  # shellcheck disable=SC2086  # KAPPA_EXTRA_FLAGS is a list of flags
  nohup "$(cat "$dir/binary")" --config "$dir/kappa.toml" ${KAPPA_EXTRA_FLAGS:-} >>"$dir/kappad.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/kappad.pid"
  # Until the forked shell has exec'd nohup, its command line is this script's:
  # wait (bounded) so running() does not mistake it for a dead broker.
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q kappad "/proc/$pid/cmdline" 2>/dev/null && break
    sleep 0.02
  done
  echo "broker $id: pid $pid, client 127.0.0.1:$(client_port "$id"), log $dir/kappad.log"
}

wait_ready() {
  local id deadline=$((SECONDS + START_WAIT_S)) pending
  while :; do
    pending=()
    for id in "$@"; do
      running "$id" || die "broker $id exited; see $(node_dir "$id")/kappad.log:
$(tail -n 15 "$(node_dir "$id")/kappad.log")"
      port_open "$(client_port "$id")" || pending+=("$id")
    done
    if ((${#pending[@]} == 0)); then
      sleep 0.5  # a broker that fails right after binding (e.g. metrics port) shows here
      for id in "$@"; do running "$id" || die "broker $id exited; see $(node_dir "$id")/kappad.log"; done
      return 0
    fi
    ((SECONDS >= deadline)) && die "broker(s) ${pending[*]} not listening after ${START_WAIT_S}s"
    sleep 0.2
  done
}

stop_node() {
  local id=$1 pid deadline
  pid=$(pid_of "$id")
  if ! running "$id"; then
    rm -f "$(node_dir "$id")/kappad.pid"
    return 0
  fi
  kill -CONT "$pid" 2>/dev/null || true  # a SIGSTOPped broker cannot shut down
  kill -TERM "$pid"
  deadline=$((SECONDS + STOP_WAIT_S))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "broker $id did not stop within ${STOP_WAIT_S}s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  else
    echo "broker $id stopped"
  fi
  rm -f "$(node_dir "$id")/kappad.pid"
}

addresses() {
  local id out=""
  for id in "$@"; do out+="${out:+,}127.0.0.1:$(client_port "$id")"; done
  echo "$out"
}

cmd_start() {
  local n=${1:-3} id ids=()
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_NODES)); then die "N must be 1..$MAX_NODES"; fi
  [[ -x $KAPPAD ]] || die "no kappad at $KAPPAD (build first: make build, or set KAPPAD)"
  for ((id = 1; id <= n; id++)); do
    ids+=("$id")
    running "$id" || write_config "$id" "$n"
    start_node "$id"
  done
  wait_ready "${ids[@]}"
  echo ""
  echo "Kappa cluster of $n broker(s) is up. Client addresses:"
  for id in "${ids[@]}"; do echo "  broker $id: 127.0.0.1:$(client_port "$id")"; done
  echo ""
  echo "  export KAPPA_BOOTSTRAP=$(addresses "${ids[@]}")"
  echo "  $KAPPACTL cluster describe"
  echo "  $0 status | restart ID | stop"
}

cmd_stop() {
  local id
  if (($# > 0)); then check_id "$1"; stop_node "$1"; return; fi
  for id in $(node_ids); do stop_node "$id"; done
}

cmd_status() {
  local id pid state any=0
  printf '%-3s %-8s %-8s %-16s %-16s %s\n' id pid state client internal metrics
  for id in $(node_ids); do
    any=1
    pid=$(pid_of "$id")
    if running "$id"; then
      state=up
      [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) == T ]] && state=stopped
      port_open "$(client_port "$id")" || state="$state,closed"
    else
      state=down; pid=-
    fi
    printf '%-3s %-8s %-8s %-16s %-16s %s\n' "$id" "$pid" "$state" "127.0.0.1:$(client_port "$id")" \
      "127.0.0.1:$(internal_port "$id")" "127.0.0.1:$(metrics_port "$id")"
  done
  ((any)) || echo "(no brokers under $CLUSTER_DIR)"
}

cmd_restart() {
  local id=${1:-}
  check_id "$id"
  stop_node "$id"
  start_node "$id"
  wait_ready "$id"
}

cmd_kill() {
  local id=${1:-} sig=${2:-KILL}
  check_id "$id"
  running "$id" || die "broker $id is not running"
  kill -"$sig" "$(pid_of "$id")"
  echo "broker $id: sent SIG$sig"
  [[ $sig == KILL || $sig == 9 ]] && rm -f "$(node_dir "$id")/kappad.pid"
  return 0
}

cmd_wipe() {
  cmd_stop
  rm -rf "$CLUSTER_DIR"
  echo "removed $CLUSTER_DIR"
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  restart) shift; cmd_restart "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  wipe) cmd_wipe ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
