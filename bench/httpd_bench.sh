#!/bin/sh
# httpd_bench.sh: GET /hello with keep-alive under wrk, actio-httpd (one
# driver thread) against nginx (one worker, bench/nginx-hello.conf) in the
# same run, rounds interleaved. Prints requests/s, p99 latency and server
# CPU per request (utime+stime from /proc/PID/stat) per connection count.
# Usage: bench/httpd_bench.sh [BUILD_DIR] (default build); CONNS, ROUNDS,
# SECONDS_PER_RUN in the environment override "10 100 1000", 3 and 5.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
for tool in wrk nginx; do
  command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] || {
    echo "httpd_bench.sh: $tool missing; install it: apt-get install wrk nginx-light" >&2
    exit 1
  }
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
conns=${CONNS:-10 100 1000}
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-5}
tmp=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mkdir -p "$tmp/root" "$tmp/nginx/tmp"
"$build/bin/actio-httpd" --port 0 --root "$tmp/root" --actio.io.drivers=1 >"$tmp/httpd.out" 2>&1 &
hpid=$!; pids="$pids $hpid"
i=0; while ! grep -q listening "$tmp/httpd.out"; do i=$((i+1)); [ $i -lt 100 ] || { cat "$tmp/httpd.out"; exit 1; }; sleep 0.1; done
hport=$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$tmp/httpd.out")
nport=$(free_port)
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@PORT@|$nport|g" "$here/nginx-hello.conf" >"$tmp/nginx/nginx.conf"
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
npid=$!; pids="$pids $npid"
i=0; while [ ! -s "$tmp/nginx/nginx.pid" ]; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
nworker=$(pgrep -P "$npid" | head -1)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "actio-httpd pid $hpid port $hport (1 driver thread); nginx worker $nworker port $nport (1 worker, access_log off)"
printf '%-12s %6s %5s %12s %10s %12s\n' server conns round req/s p99 cpu-us/req
for c in $conns; do
  r=1
  while [ $r -le "$rounds" ]; do
    for s in actio nginx; do
      if [ $s = actio ]; then pid=$hpid; port=$hport; else pid=$nworker; port=$nport; fi
      t0=$(ticks $pid)
      wrk -t2 -c"$c" -d"${secs}s" --latency "http://127.0.0.1:$port/hello" >"$tmp/wrk.out" 2>&1 || true
      t1=$(ticks $pid)
      rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
      p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
      total=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
      cpu=$(awk -v a="$t0" -v b="$t1" -v n="${total:-0}" -v hz="$hz" \
        'BEGIN { if (n > 0) printf "%.2f", (b-a)/hz*1e6/n; else print "-" }')
      printf '%-12s %6s %5s %12s %10s %12s\n' $s "$c" $r "${rps:--}" "${p99:--}" "$cpu"
    done
    r=$((r+1))
  done
done
