#!/usr/bin/env bash
# run_echo_bench.sh — runs actio-echo-bench (actio-echo vs the actio-epoll-echo
# baseline) in three load shapes and prints each comparison table:
#
#   1. latency-bound:  100 connections, 64 B messages, depth 1  (headline)
#   2. pipelined:      100 connections, 64 B messages, depth 16
#   3. bulk:            32 connections, 16 KiB messages, depth 4
#
# actio-echo gets --server-args "$ACTIO_SERVER_ARGS" (default: the epoll
# backend). All script arguments are forwarded to every run after the
# defaults, so they override them (the last occurrence of an option wins).
#
# Usage:
#   bench/run_echo_bench.sh [actio-echo-bench options...]
#   bench/run_echo_bench.sh --duration 10
#   bench/run_echo_bench.sh --only baseline
#   ACTIO_SERVER_ARGS="--actio.io.backend=epoll --actio.io.drivers=1" bench/run_echo_bench.sh
#   BUILD_DIR=/path/to/build bench/run_echo_bench.sh
#
# Exit status: 0 if every run succeeded, 1 otherwise.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
bench=$build/bin/actio-echo-bench
server_args=${ACTIO_SERVER_ARGS:---actio.io.backend=epoll}

if [[ ! -x $bench ]]; then
  echo "run_echo_bench.sh: $bench not found; build first (cmake --build $build)" >&2
  exit 1
fi

status=0
run() {
  local title=$1
  shift
  echo "=== $title"
  "$bench" --server-args "$server_args" "$@" || status=1
  echo
}

run "latency-bound: 100 x 64 B, depth 1" --connections 100 --size 64 --depth 1 "$@"
run "pipelined: 100 x 64 B, depth 16" --connections 100 --size 64 --depth 16 "$@"
run "bulk: 32 x 16 KiB, depth 4" --connections 32 --size 16384 --depth 4 "$@"
exit $status
