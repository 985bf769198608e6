#!/usr/bin/env bash
# Runs N Kappa brokers each in its own Linux network namespace, so a host can
# be cut off or the cluster split as a real network partition would (for
# manual fault tests; the automated suite in tests/cluster uses an in-process
# TCP proxy instead). Needs root (or CAP_NET_ADMIN) and iproute2.
#
#   deploy/netns.sh up [N]            namespaces kappa-ns1..N + brokers (default 3, at most 9)
#   deploy/netns.sh down              stop the brokers, delete the namespaces and the bridge
#   deploy/netns.sh status            namespaces, links, cut routes, broker pids
#   deploy/netns.sh cut ID            isolate broker ID from everyone (its link goes down)
#   deploy/netns.sh heal [ID]         undo cut/split for ID, or everything
#   deploy/netns.sh split "1,2" "3"   drop traffic between the two groups (both ways)
#   deploy/netns.sh kill ID [SIG]     send a signal (default KILL) to broker ID
#   deploy/netns.sh restart ID        start broker ID again (after a kill)
#   deploy/netns.sh exec ID CMD...    run a command inside broker ID's namespace
#
# Network: a bridge kappa-br0 in the root namespace (10.77.0.254/24); broker
# <id> lives in namespace kappa-ns<id> at 10.77.0.<id>, joined to the bridge
# by a veth pair (kappa-v<id> in the root namespace, kappa-e<id> inside).
# Ports inside each namespace: client 9092, internal 9093, metrics 9644.
# Clients in the root namespace use 10.77.0.<id>:9092. Only interfaces and
# namespaces named kappa-* are ever created, changed or deleted.
#
# A cut sets kappa-v<id> down; a split adds blackhole routes (10.77.0.<b>/32)
# inside the namespaces of one side for every address of the other: packets
# vanish silently, as on a real partition (no connection refused).
#
# Environment: KAPPAD (default ./build/broker/kappad), KAPPA_NETNS_DIR (data,
# logs, pid files; default ./cluster-data-netns), KAPPA_EXTRA_FLAGS.
set -euo pipefail

KAPPAD=${KAPPAD:-./build/broker/kappad}
DATA_ROOT=${KAPPA_NETNS_DIR:-./cluster-data-netns}
BRIDGE=kappa-br0
SUBNET=10.77.0
MAX_NODES=9

die() { echo "netns: $*" >&2; exit 1; }
ns() { echo "kappa-ns$1"; }
addr() { echo "$SUBNET.$1"; }
node_dir() { echo "$DATA_ROOT/$1"; }
pid_of() {
  local f
  f="$(node_dir "$1")/kappad.pid"
  if [[ -f $f ]]; then cat "$f"; fi
}
running() {
  local pid
  pid=$(pid_of "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A killed broker whose parent is gone may linger as a zombie until reaped.
  [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) != Z ]]
}
check_id() {
  if ! [[ ${1:-} =~ ^[1-9]$ ]]; then die "broker id must be 1..$MAX_NODES, got '${1:-}'"; fi
  ip netns list | grep -qw "$(ns "$1")" || die "no namespace $(ns "$1"): run 'up' first"
}
node_ids() {
  ip netns list | awk '{print $1}' | sed -n 's/^kappa-ns\([0-9]\)$/\1/p' | sort -n
}
require_root() {
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces): run it with sudo"
  command -v ip >/dev/null || die "needs iproute2 (apt-get install iproute2)"
}

make_network() {
  local n=$1 id
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge
    ip addr add "$SUBNET.254/24" dev "$BRIDGE"
  }
  ip link set "$BRIDGE" up
  for ((id = 1; id <= n; id++)); do
    ip netns list | grep -qw "$(ns "$id")" && continue
    ip netns add "$(ns "$id")"
    ip link add "kappa-v$id" type veth peer name "kappa-e$id"
    ip link set "kappa-e$id" netns "$(ns "$id")"
    ip link set "kappa-v$id" master "$BRIDGE" up
    ip -n "$(ns "$id")" addr add "$(addr "$id")/24" dev "kappa-e$id"
    ip -n "$(ns "$id")" link set "kappa-e$id" up
    ip -n "$(ns "$id")" link set lo up
  done
}

start_broker() {
  local id=$1 dir voters=$2 rf=$3 pid
  dir=$(node_dir "$id")
  if running "$id"; then echo "broker $id already running"; return 0; fi
  mkdir -p "$dir/data"
  # restart reuses the binary and flags of the first start.
  [[ -f $dir/binary ]] || realpath "$KAPPAD" >"$dir/binary"
  [[ -f $dir/flags ]] || cat >"$dir/flags" <<EOF
--node-id $id --listen $(addr "$id"):9092 --internal-listen $(addr "$id"):9093 --metrics-listen $(addr "$id"):9644 --controller-voters $voters --default-replication-factor $rf --data-dir $(cd "$dir" && pwd)/data
EOF
  # shellcheck disable=SC2046,SC2086  # the flags file and KAPPA_EXTRA_FLAGS are word lists
  nohup ip netns exec "$(ns "$id")" "$(cat "$dir/binary")" $(cat "$dir/flags") ${KAPPA_EXTRA_FLAGS:-} \
    >>"$dir/kappad.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/kappad.pid"
  echo "broker $id: pid $pid in $(ns "$id"), client $(addr "$id"):9092, log $dir/kappad.log"
}

stop_broker() {
  local id=$1 pid deadline
  pid=$(pid_of "$id")
  if running "$id"; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid"
    deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(node_dir "$id")/kappad.pid"
}

cmd_up() {
  local n=${1:-3} id voters="" rf bootstrap=""
  if ! [[ $n =~ ^[1-9]$ ]]; then die "N must be 1..$MAX_NODES"; fi
  [[ -x $KAPPAD ]] || die "no kappad at $KAPPAD (build first, or set KAPPAD)"
  rf=$((n < 3 ? n : 3))
  for ((id = 1; id <= rf; id++)); do voters+="${voters:+,}$id@$(addr "$id"):9093"; done
  make_network "$n"
  for ((id = 1; id <= n; id++)); do
    start_broker "$id" "$voters" "$rf"
    bootstrap+="${bootstrap:+,}$(addr "$id"):9092"
  done
  echo ""
  echo "  export KAPPA_BOOTSTRAP=$bootstrap"
  echo "  $0 cut 1; $0 heal 1; $0 split \"1,2\" \"3\"; $0 heal; $0 down"
}

cmd_down() {
  local id
  for id in $(node_ids); do stop_broker "$id"; done
  for id in $(node_ids); do
    ip link del "kappa-v$id" 2>/dev/null || true  # and its peer inside the namespace
    ip netns del "$(ns "$id")"
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  echo "namespaces and bridge removed (data kept in $DATA_ROOT)"
}

cmd_cut() {
  check_id "${1:-}"
  ip link set "kappa-v$1" down
  echo "broker $1 cut off"
}

cmd_heal() {
  local id ids
  if (($# > 0)); then check_id "$1"; ids=$1; else ids=$(node_ids | tr '\n' ' '); fi
  for id in $ids; do
    ip link set "kappa-v$id" up
    # Blackholes inside its namespace, and the ones others hold against it.
    ip -n "$(ns "$id")" route show type blackhole | awk '{print $2}' | while read -r dst; do
      ip -n "$(ns "$id")" route del blackhole "$dst"
    done
    for other in $(node_ids); do
      ip -n "$(ns "$other")" route del blackhole "$(addr "$id")/32" 2>/dev/null || true
    done
  done
  echo "healed: $ids"
}

cmd_split() {
  local a b
  (($# == 2)) || die 'split takes two groups, e.g. split "1,2" "3"'
  IFS=, read -ra left <<<"$1"
  IFS=, read -ra right <<<"$2"
  for a in "${left[@]}"; do check_id "$a"; done
  for b in "${right[@]}"; do check_id "$b"; done
  for a in "${left[@]}"; do
    for b in "${right[@]}"; do
      ip -n "$(ns "$a")" route replace blackhole "$(addr "$b")/32"
      ip -n "$(ns "$b")" route replace blackhole "$(addr "$a")/32"
    done
  done
  echo "split: {$1} | {$2}"
}

cmd_status() {
  local id state pid
  for id in $(node_ids); do
    state=$(ip -br link show "kappa-v$id" 2>/dev/null | awk '{print $2}')
    pid=$(pid_of "$id")
    running "$id" || pid="-"
    printf 'broker %s  %s  link %-5s pid %-8s blackholes: %s\n' "$id" "$(addr "$id")" "$state" "$pid" \
      "$(ip -n "$(ns "$id")" route show type blackhole | awk '{print $2}' | tr '\n' ' ')"
  done
}

cmd_restart() {
  local id=${1:-} dir
  check_id "$id"
  dir=$(node_dir "$id")
  [[ -f $dir/flags ]] || die "broker $id was never started"
  stop_broker "$id"
  start_broker "$id" "" ""
}

cmd_kill() {
  check_id "${1:-}"
  running "$1" || die "broker $1 is not running"
  kill -"${2:-KILL}" "$(pid_of "$1")"
}

cmd=${1:-}
[[ -n $cmd ]] && shift
case $cmd in
  up) require_root; cmd_up "$@" ;;
  down) require_root; cmd_down ;;
  status) cmd_status ;;
  cut) require_root; cmd_cut "$@" ;;
  heal) require_root; cmd_heal "$@" ;;
  split) require_root; cmd_split "$@" ;;
  kill) cmd_kill "$@" ;;
  restart) require_root; cmd_restart "$@" ;;
  exec) check_id "${1:-}"; id=$1; shift; exec ip netns exec "$(ns "$id")" "$@" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
