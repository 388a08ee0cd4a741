#!/usr/bin/env bash
# run_chat_bench.sh -- chat fan-out: 1,000 text clients, one room, some
# talking; actio-chat on 2 meshed nodes (500 clients each) vs a plain
# single-threaded epoll chat server (actio-epoll-chat), in the same run.
#
# usage: bench/chat/run_chat_bench.sh [--no-single] [actio-chat-bench options...]
#
# Starts on 127.0.0.1, every port chosen by the OS:
#   baseline      actio-epoll-chat --max-queue 64 MiB
#   actio-1node   one actio-chat (no node port): the same load on one process
#                 (skipped with --no-single)
#   actio-2nodes  two actio-chat nodes, the second --peer of the first, plain
#                 node link (no TLS)
# actio-chat gets --rate 0 --max-queue 67108864 and $ACTIO_CHAT_ARGS (e.g.
# ACTIO_CHAT_ARGS="--actio.io.backend=epoll"). Then runs
#   actio-chat-bench --server baseline=... [--server actio-1node=...]
#                    --server actio-2nodes=A,B --pids ... [options...]
# (defaults: --clients 1000 --rooms 1 --senders 10 --window 32 --size 64
# --duration 5; see actio-chat-bench --help), and stops every server with
# SIGTERM. BUILD_DIR (default build/) holds bin/.
#
# Exit status: the generator's (0 ok, 1 a server failed: disconnects, lost or
# reordered messages), 1 if a server did not start.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${BUILD_DIR:-$repo/build}/bin
single=1
args=()
for a in "$@"; do
  case "$a" in
    --no-single) single=0 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
for b in actio-chat actio-epoll-chat actio-chat-bench; do
  [[ -x $bin/$b ]] || { echo "run_chat_bench.sh: $bin/$b not found; build first" >&2; exit 1; }
done
read -r -a chat_args <<<"${ACTIO_CHAT_ARGS:-}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start NAME CMD...: runs CMD with its output in $tmp/NAME.log; sets pid.
start() {
  local name=$1; shift
  "$@" </dev/null >"$tmp/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
}

# port_of NAME PATTERN: waits (30 s) for PATTERN NUMBER in NAME's log.
port_of() {
  local name=$1 pattern=$2 n
  for _ in $(seq 300); do
    n=$(grep -m1 -o "${pattern}[0-9]*" "$tmp/$name.log" 2>/dev/null || true)
    [[ -n $n ]] && { echo "${n##*[!0-9]}"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "run_chat_bench.sh: $name did not start:" >&2
  sed 's/^/  /' "$tmp/$name.log" >&2
  return 1
}

chat=("$bin/actio-chat" --host 127.0.0.1 --port 0 --rate 0 --max-queue 67108864
      "${chat_args[@]}")
servers=() pid_args=()

start baseline "$bin/actio-epoll-chat" --port 0 --max-queue 67108864
p=$(port_of baseline 'listening on 127.0.0.1:')
servers+=(--server "baseline=127.0.0.1:$p") pid_args+=(--pids "baseline=$pid")

if ((single)); then
  start single "${chat[@]}"
  p=$(port_of single 'listening on 127.0.0.1:')
  servers+=(--server "actio-1node=127.0.0.1:$p") pid_args+=(--pids "actio-1node=$pid")
fi

start node1 "${chat[@]}" --node-port 0
c1=$(port_of node1 'listening on 127.0.0.1:')
n1=$(port_of node1 'node port ')
p1=$pid
start node2 "${chat[@]}" --node-port 0 --peer "127.0.0.1:$n1"
c2=$(port_of node2 'listening on 127.0.0.1:')
p2=$pid
port_of node2 'node port ' >/dev/null
servers+=(--server "actio-2nodes=127.0.0.1:$c1,127.0.0.1:$c2")
pid_args+=(--pids "actio-2nodes=$p1,$p2")

status=0
"$bin/actio-chat-bench" "${servers[@]}" "${pid_args[@]}" "${args[@]}" || status=$?
exit $status
