#!/usr/bin/env bash
# copy_bench.sh: how fast actio-copy copies a large file compared with cp,
# all in the same run, with the source in the page cache.
#
# Measures, RUNS times each (interleaved, DST removed before every run):
#   cp SRC DST                      plain cp (copy_file_range; the data may
#                                   still be dirty in the page cache)
#   actio-copy SRC DST --backend uring   the same durability as cp
#   actio-copy SRC DST --backend epoll
#   cp SRC DST && sync DST          cp plus an fsync of DST (coreutils sync FILE)
#   actio-copy SRC DST --backend uring --sync
# (actio-copy copies regular files with copy_range requests, i.e.
# copy_file_range on the file service's helper threads, as cp does.)
# Prints the median and best MiB/s and the median CPU seconds (user + sys,
# from /usr/bin/time) of each, and the ratios of actio-copy to cp (same
# durability: no fsync; target >= 1.0) and of actio-copy --sync to cp + sync.
# Ratios are medians of the per-round ratios (each round runs every tool
# once, back to back), which follow the machine's drift better than a ratio
# of medians.
#
# Run:   bench/file/copy_bench.sh [--size 1G] [--dir PARENT] [--runs 3]
#            [--chunk BYTES] [--depth N] [--bin path/to/actio-copy]
# SRC (SIZE bytes from /dev/urandom) and DST live in a fresh directory under
# --dir (default ${TMPDIR:-/tmp}), which needs 3x SIZE free and is removed at
# the end. --chunk/--depth are passed to actio-copy.
# Every command is bounded by a timeout; exit status 0 after a complete run
# (whatever the ratio), 1 on a failed copy or setup error, 2 on bad options.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

size_arg=1G
parent="${TMPDIR:-/tmp}"
runs=3
chunk=""
depth=""
bin="${ACTIO_COPY:-$root/build/bin/actio-copy}"
per_cmd_timeout=300 # seconds, per copy

usage() {
  cat <<EOF
usage: bench/file/copy_bench.sh [options]
Warm-cache copy of one large file: cp, actio-copy (uring, epoll), cp + sync
DST, actio-copy --sync, interleaved, in the same run.

  --size N       size of the source file, as for head -c (default 1G = 1 GiB)
  --dir DIR      parent of the scratch directory (default \${TMPDIR:-/tmp});
                 needs 3x size free
  --runs N       runs per tool; the median and best are reported (default 3)
  --chunk BYTES  passed to actio-copy --chunk (default: actio-copy's)
  --depth N      passed to actio-copy --depth (default: actio-copy's)
  --bin PATH     actio-copy to run (default: build/bin/actio-copy, or \$ACTIO_COPY)
  --help         this text
EOF
}

die() {
  echo "copy_bench: $*" >&2
  exit 1
}

bad() {
  echo "copy_bench: $*" >&2
  echo "(--help for usage)" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  opt="$1"
  val=""
  case "$opt" in
    --help|-h) usage; exit 0 ;;
    --*=*) val="${opt#*=}"; opt="${opt%%=*}" ;;
    --size|--dir|--runs|--chunk|--depth|--bin)
      [[ $# -ge 2 ]] || bad "$opt needs a value"
      val="$2"; shift ;;
    *) bad "unknown argument '$opt'" ;;
  esac
  case "$opt" in
    --size) size_arg="$val" ;;
    --dir) parent="$val" ;;
    --runs) runs="$val" ;;
    --chunk) chunk="$val" ;;
    --depth) depth="$val" ;;
    --bin) bin="$val" ;;
    *) bad "unknown option '$opt'" ;;
  esac
  shift
done

size=$(numfmt --from=iec "$size_arg" 2>/dev/null) || bad "bad --size '$size_arg'"
[[ "$size" =~ ^[0-9]+$ && "$size" -gt 0 ]] || bad "bad --size '$size_arg'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || bad "bad --runs '$runs'"
[[ -z "$chunk" || "$chunk" =~ ^[1-9][0-9]*$ ]] || bad "bad --chunk '$chunk' (bytes)"
[[ -z "$depth" || "$depth" =~ ^[1-9][0-9]*$ ]] || bad "bad --depth '$depth'"
[[ -x "$bin" ]] || die "no actio-copy at $bin (build first: cmake --build build)"
[[ -d "$parent" ]] || die "--dir $parent is not a directory"

# Free space: SRC + DST, and room to spare.
avail_kib=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
need_kib=$(( (3 * size + 1023) / 1024 ))
if (( avail_kib < need_kib )); then
  die "$parent has $(( avail_kib / 1024 )) MiB free, needs $(( need_kib / 1024 )) MiB (3 x --size); use --dir or a smaller --size"
fi

work="$(mktemp -d "$parent/actio-copy-bench.XXXXXX")" || die "cannot create a directory in $parent"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
src="$work/src.dat"
dst="$work/dst.dat"
fstype=$(findmnt -no FSTYPE -T "$work" 2>/dev/null || stat -f -c %T "$work" 2>/dev/null || echo "?")

mib=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')
copy_opts=()
[[ -n "$chunk" ]] && copy_opts+=(--chunk "$chunk")
[[ -n "$depth" ]] && copy_opts+=(--depth "$depth")

echo "copy_bench: $mib MiB in $work ($fstype), $runs runs each," \
     "actio-copy ${copy_opts[*]:-(default chunk/depth)}"
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (Debian package 'time')"
[[ "$fstype" == tmpfs ]] && echo "copy_bench: note: tmpfs, fsync is a no-op here"

echo "copy_bench: writing the source from /dev/urandom ..."
timeout "$per_cmd_timeout" head -c "$size" /dev/urandom > "$src" \
  || die "could not write $src"
# SRC on disk (so its writeback does not overlap the timed runs), then warm.
timeout "$per_cmd_timeout" sync -- "$src" || die "could not sync $src"
timeout "$per_cmd_timeout" cat "$src" > /dev/null

# One timed run of "$@"; prints "wall_seconds cpu_seconds", fails if the
# command did or if DST has the wrong size.
time_one() {
  rm -f -- "$dst"
  local t0 t1
  t0=$EPOCHREALTIME
  if ! timeout "$per_cmd_timeout" /usr/bin/time -f '%U %S' -o "$work/cpu.txt" \
       "$@" > "$work/out.log" 2>&1; then
    echo "copy_bench: failed: $*" >&2
    cat "$work/out.log" >&2
    return 1
  fi
  t1=$EPOCHREALTIME
  local got
  got=$(stat -c %s "$dst")
  [[ "$got" == "$size" ]] || { echo "copy_bench: $* left $got bytes, expected $size" >&2; return 1; }
  awk -v a="$t0" -v b="$t1" '{ printf "%.6f %.3f", b - a, $1 + $2 }' "$work/cpu.txt"
}

names=("cp" "actio-copy uring" "actio-copy epoll" "cp + sync DST" "actio-copy --sync")
declare -A secs cpus
for name in "${names[@]}"; do secs[$name]=""; cpus[$name]=""; done
ratio_plain="" # per round: cp time / actio-copy uring time
ratio_sync=""  # per round: cp+sync time / actio-copy --sync time

run_tool() { # name -> appends one time to secs[name], sets $last
  local name="$1" t
  case "$name" in
    "cp") t=$(time_one cp -- "$src" "$dst") ;;
    "cp + sync DST") t=$(time_one bash -c 'cp -- "$1" "$2" && sync -- "$2"' cp_sync "$src" "$dst") ;;
    "actio-copy uring") t=$(time_one "$bin" "$src" "$dst" --backend uring "${copy_opts[@]}") ;;
    "actio-copy epoll") t=$(time_one "$bin" "$src" "$dst" --backend epoll "${copy_opts[@]}") ;;
    "actio-copy --sync") t=$(time_one "$bin" "$src" "$dst" --backend uring --sync "${copy_opts[@]}") ;;
  esac || die "run of '$name' failed"
  local wall cpu
  read -r wall cpu <<< "$t"
  secs[$name]+="$wall "
  cpus[$name]+="$cpu "
  last=$wall
  printf '  %-18s %8.3f s  %8.1f MiB/s  cpu %6.3f s\n' "$name" "$wall" \
    "$(awk -v s="$size" -v t="$wall" 'BEGIN { printf "%.1f", s / 1048576 / t }')" "$cpu"
}

for (( r = 1; r <= runs; ++r )); do
  echo "run $r/$runs:"
  declare -A this
  for name in "${names[@]}"; do run_tool "$name"; this[$name]=$last; done
  ratio_plain+="$(awk -v c="${this[cp]}" -v a="${this[actio-copy uring]}" 'BEGIN { print c / a }') "
  ratio_sync+="$(awk -v c="${this[cp + sync DST]}" -v a="${this[actio-copy --sync]}" 'BEGIN { print c / a }') "
done

# Each actio-copy output must be byte-exact (checked once, untimed).
for backend in uring epoll; do
  rm -f -- "$dst"
  timeout "$per_cmd_timeout" "$bin" "$src" "$dst" --backend "$backend" \
    "${copy_opts[@]}" > /dev/null || die "actio-copy --backend $backend failed"
  cmp -s -- "$src" "$dst" || die "actio-copy --backend $backend: DST differs from SRC"
done
echo "copy_bench: actio-copy output verified with cmp (uring, epoll)"
median() { # of a list of numbers
  tr ' ' '\n' <<< "$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
    printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rm -f -- "$dst"

# median and best MiB/s from a list of seconds
stats() {
  tr ' ' '\n' <<< "$1" | awk -v s="$size" 'NF { print s / 1048576 / $1 }' | sort -g \
    | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f", m, v[NR] }'
}

echo
echo "copy_bench: $mib MiB, page cache warm, MiB/s (median, best of $runs):"
declare -A med
for name in "${names[@]}"; do
  read -r m b <<< "$(stats "${secs[$name]}")"
  med[$name]=$m
  printf '%-18s median %8.1f MiB/s   best %8.1f MiB/s   cpu %6.3f s\n' \
    "$name:" "$m" "$b" "$(median "${cpus[$name]}")"
done
echo "ratio actio-copy(uring)/cp, same durability (no fsync), median of rounds:" \
  "$(median "$ratio_plain") (target >= 1.0)"
echo "ratio actio-copy --sync/cp + sync DST, median of rounds: $(median "$ratio_sync")"
