#!/usr/bin/env bash
# kv_bench.sh — redis-benchmark (Debian redis-tools) against actio-kv and, in
# the same run, against redis-server (Debian redis-server) when installed:
# SET and GET, 50 clients, pipeline depth 1 and 16. Prints requests/s, p99
# latency and CPU time per request (the server's user+system time from
# /proc) side by side, means over ROUNDS rounds (3) that interleave the two
# servers test by test, and the ratios. A benchmark, not a test: the figures depend on the
# machine and its load.
#
# Usage:
#   bench/kv_bench.sh                  # 200,000 requests per test
#   REQUESTS=1000000 ROUNDS=5 bench/kv_bench.sh
#   KV_ARGS="--actio.io.drivers=1 --actio.io.backend=epoll" bench/kv_bench.sh
#   BUILD_DIR=/path/to/build bench/kv_bench.sh
#
# actio-kv runs with one driver thread unless KV_ARGS says otherwise (the
# comparison is with single-threaded redis-server). Exit status: 0 if every
# run succeeded, 1 otherwise.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
kv=$build/bin/actio-kv
requests=${REQUESTS:-200000}
rounds=${ROUNDS:-3}
kv_args=${KV_ARGS:---actio.io.drivers=1}
kv_port=${KV_PORT:-16379}
redis_port=${REDIS_PORT:-16380}

command -v redis-benchmark >/dev/null 2>&1 \
  || { echo "kv_bench: redis-benchmark not found (apt-get install redis-tools)" >&2; exit 1; }
[[ -x $kv ]] || { echo "kv_bench: $kv not built (cmake --build build --target actio-kv)" >&2; exit 1; }

# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

wait_port() { # wait_port PORT: until something answers PING (10 s)
  for _ in $(seq 100); do
    [[ $(redis-cli -p "$1" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  return 1
}

declare -A rps p99 cpu ticks
status=0

# once NAME PID PORT P TEST: one redis-benchmark run against one server;
# adds its requests/s, p99 and CPU ticks to the sums.
once() {
  local name=$1 pid=$2 port=$3 p=$4 t=$5 line before after
  before=$(cpu_ticks "$pid")
  line=$(redis-benchmark -p "$port" -t "$t" -P "$p" -c 50 -n "$requests" \
           -r 100000 --csv 2>/dev/null | tail -n 1) || status=1
  after=$(cpu_ticks "$pid")
  # "test","rps","avg","min","p50","p95","p99","max"
  local k=$name,$t,$p
  rps[$k]=$(awk -v a="${rps[$k]:-0}" -v b="$(echo "$line" | cut -d, -f2 | tr -d '"')" \
            'BEGIN { printf "%.2f", a + b }')
  p99[$k]=$(awk -v a="${p99[$k]:-0}" -v b="$(echo "$line" | cut -d, -f7 | tr -d '"')" \
            'BEGIN { printf "%.3f", a + b }')
  ticks[$k]=$(( ${ticks[$k]:-0} + after - before ))
}

"$kv" --port "$kv_port" $kv_args >/dev/null &
kv_pid=$!
trap 'kill $kv_pid 2>/dev/null; [[ -n ${redis_pid:-} ]] && kill $redis_pid 2>/dev/null' EXIT
sleep 0.2
kill -0 "$kv_pid" 2>/dev/null && wait_port "$kv_port" \
  || { echo "kv_bench: actio-kv did not start (port $kv_port taken?)" >&2; exit 1; }

servers=(actio-kv)
pids=($kv_pid)
ports=($kv_port)
if command -v redis-server >/dev/null 2>&1; then
  redis-server --port "$redis_port" --save '' --appendonly no --daemonize no \
    --bind 127.0.0.1 >/dev/null &
  redis_pid=$!
  sleep 0.2
  kill -0 "$redis_pid" 2>/dev/null && wait_port "$redis_port" \
    || { echo "kv_bench: redis-server did not start (port $redis_port taken?)" >&2; exit 1; }
  servers+=(redis-server)
  pids+=($redis_pid)
  ports+=($redis_port)
else
  echo "kv_bench: redis-server is not installed (apt-get install redis-server):" \
       "actio-kv figures only"
fi

# Rounds interleave the servers test by test, so that a change in the
# machine's speed during the run hits both alike.
for ((r = 0; r < rounds; r++)); do
  for p in 1 16; do
    for t in set get; do
      for i in "${!servers[@]}"; do
        once "${servers[$i]}" "${pids[$i]}" "${ports[$i]}" "$p" "$t"
      done
    done
  done
done
for k in "${!rps[@]}"; do
  rps[$k]=$(awk -v a="${rps[$k]}" -v n="$rounds" 'BEGIN { printf "%.0f", a / n }')
  p99[$k]=$(awk -v a="${p99[$k]}" -v n="$rounds" 'BEGIN { printf "%.3f", a / n }')
  cpu[$k]=$(awk -v d="${ticks[$k]}" -v hz="$hz" -v n=$((requests * rounds)) \
             'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
done

echo "redis-benchmark, 50 clients, $requests requests per test, -r 100000 keys, $rounds interleaved rounds (means)"
echo "actio-kv args: $kv_args"
printf '%-5s %-3s' test P
for s in "${servers[@]}"; do
  printf ' | %-12s %11s %8s %9s' "$s" "requests/s" "p99 ms" "CPU us/req"
done
echo
for p in 1 16; do
  for t in set get; do
    printf '%-5s %-3s' "$t" "$p"
    for s in "${servers[@]}"; do
      printf ' | %-12s %11s %8s %9s' "" "${rps[$s,$t,$p]}" "${p99[$s,$t,$p]}" "${cpu[$s,$t,$p]}"
    done
    if [[ ${#servers[@]} -gt 1 ]]; then
      awk -v a="${rps[actio-kv,$t,$p]}" -v b="${rps[redis-server,$t,$p]}" \
          -v c="${cpu[actio-kv,$t,$p]}" -v d="${cpu[redis-server,$t,$p]}" \
          'BEGIN { printf " | ratio req/s %.2f, CPU/req %.2f", a / b, (d > 0 ? c / d : 0) }'
    fi
    echo
  done
done
exit $status
