#!/usr/bin/env bash
# tls_idle_memory.sh -- memory per idle connection of actio-echo, plain and
# TLS: opens N idle connections (TLS: handshake done, nothing sent), reads
# the server's RSS before and after, prints the delta per connection.
#
# usage: bench/tls_idle_memory.sh [BUILD_DIR] [N]   (default: build 1000)
# Needs openssl and python3 (the client side: its ssl module).
set -euo pipefail
build=${1:-build}
n=${2:-1000}
echo_bin=$build/bin/actio-echo
dir=$(mktemp -d)
trap 'rm -rf "$dir"; kill $(jobs -p) 2>/dev/null || true' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n 4096
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$dir/k.pem" -out "$dir/c.pem" -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

measure() { # $1: plain|tls
  local args=(--port 0 --actio.io.backend=epoll)
  [[ $1 == tls ]] && args+=(--tls-cert "$dir/c.pem" --tls-key "$dir/k.pem")
  "$echo_bin" "${args[@]}" > "$dir/out" 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
  local port; port=$(grep -o '127.0.0.1:[0-9]*' "$dir/out" | head -1 | cut -d: -f2)
  python3 - "$1" "$port" "$n" "$dir/c.pem" "$pid" <<'PY'
import socket, ssl, sys, time
mode, port, n, ca, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
ctx = ssl.create_default_context(cafile=ca)
conns = []
# warm up (first connection allocates the driver's pools)
w = socket.create_connection(("127.0.0.1", port))
if mode == "tls": w = ctx.wrap_socket(w, server_hostname="localhost")
w.sendall(b"x"); w.recv(1); time.sleep(0.5)
before = rss()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "tls": s = ctx.wrap_socket(s, server_hostname="localhost")
    conns.append(s)
conns[-1].sendall(b"y"); conns[-1].recv(1)  # all accepted and handled
time.sleep(1)
after = rss()
print(f"{mode}: {n} idle connections: RSS +{after - before} KiB = {(after - before) * 1024 / n:.0f} bytes each")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
measure plain
measure tls
