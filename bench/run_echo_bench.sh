#!/usr/bin/env bash
# run_echo_bench.sh — runs actio-echo-bench (actio-echo vs the baselines:
# plain epoll, plain io_uring, libuv and tokio echo servers, every one built) in
# several load shapes and prints each comparison table:
#
#   1. latency-bound:  100 connections, 64 B messages, depth 1  (headline)
#   2. pipelined:      100 connections, 64 B messages, depth 16
#   3. bulk:            32 connections, 16 KiB messages, depth 4
#   4. many-1k:      1,000 connections, 64 B messages, depth 1, per backend
#   5. many-5k:      5,000 connections, 64 B messages, depth 1, per backend
#                    (baselines epoll and uring only, see below)
#
# actio-echo gets --server-args "$ACTIO_SERVER_ARGS" (default: the epoll
# backend); the many-connection shapes run once per backend in
# $ACTIO_MANY_BACKENDS (default: "epoll uring"), each against the baselines in
# the same run, with "$ACTIO_SERVER_ARGS --actio.io.backend=B".
# $ACTIO_SHAPES picks shapes (default: "latency pipelined bulk many-1k many-5k").
# The load generator holds every server's connections at once: many-5k runs
# the epoll and io_uring baselines only (--baselines epoll,uring: 3 x 5,000
# descriptors, within the usual hard limit of 20,000; ulimit -n). All
# script arguments are forwarded to every run after the defaults, so they
# override them (the last occurrence of an option wins).
#
# Usage:
#   bench/run_echo_bench.sh [actio-echo-bench options...]
#   bench/run_echo_bench.sh --duration 10
#   bench/run_echo_bench.sh --only baseline
#   bench/run_echo_bench.sh --baselines epoll,uring
#   ACTIO_SERVER_ARGS="--actio.io.backend=epoll --actio.io.drivers=1" bench/run_echo_bench.sh
#   BUILD_DIR=/path/to/build bench/run_echo_bench.sh
#   ACTIO_SHAPES=many-5k bench/run_echo_bench.sh --duration 4 --rounds 4
#
# Exit status: 0 if every run succeeded, 1 otherwise.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
bench=$build/bin/actio-echo-bench
server_args=${ACTIO_SERVER_ARGS:---actio.io.backend=epoll}
many_backends=${ACTIO_MANY_BACKENDS:-epoll uring}
shapes=" ${ACTIO_SHAPES:-latency pipelined bulk many-1k many-5k} "

if [[ ! -x $bench ]]; then
  echo "run_echo_bench.sh: $bench not found; build first (cmake --build $build)" >&2
  exit 1
fi

status=0
run() {
  local shape=$1 title=$2 args=$3
  shift 3
  [[ $shapes == *" $shape "* ]] || return 0
  echo "=== $title"
  "$bench" --server-args "$args" "$@" || status=1
  echo
}

run latency "latency-bound: 100 x 64 B, depth 1" "$server_args" --connections 100 --size 64 --depth 1 "$@"
run pipelined "pipelined: 100 x 64 B, depth 16" "$server_args" --connections 100 --size 64 --depth 16 "$@"
run bulk "bulk: 32 x 16 KiB, depth 4" "$server_args" --connections 32 --size 16384 --depth 4 "$@"
for b in $many_backends; do
  run many-1k "many: 1000 x 64 B, depth 1, backend $b" \
    "$server_args --actio.io.backend=$b" --connections 1000 --size 64 --depth 1 "$@"
done
for b in $many_backends; do
  run many-5k "many: 5000 x 64 B, depth 1, backend $b" \
    "$server_args --actio.io.backend=$b" --connections 5000 --size 64 --depth 1 \
    --baselines epoll,uring "$@"
done
exit $status
