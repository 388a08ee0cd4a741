#!/usr/bin/env bash
# run_wc_bench.sh: actio-wc -l against GNU wc -l on one large file with the
# page cache warm, in the same run.
#
# Measures, ROUNDS times each, interleaved (wc, actio-wc, wc, actio-wc ...):
#   LC_ALL=C wc -l FILE
#   actio-wc -l FILE            (default backend; --backend to choose)
# checks that both print the same line, and prints the median and best
# seconds and GiB/s of each and `ratio actio-wc/wc: X.XX (target >= 1.0)`
# (ratio of the median throughputs), and each tool's CPU seconds (user +
# system, all threads) with their ratio, which depends less on other load.
#
# Run:   bench/wc/run_wc_bench.sh [--size 1G] [--dir PARENT] [--rounds 5]
#            [--flags -l] [--backend auto|uring|epoll] [--bin path/to/actio-wc]
# FILE (text with random line lengths 0-200) is written to a fresh directory
# under --dir (default ${TMPDIR:-/tmp}), which needs SIZE free; it is removed
# at the end. Every command is bounded by a timeout; exit status 0 after a
# complete run (whatever the ratio), 1 on differing outputs or a failed run,
# 2 on bad options.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

size_arg=1G
parent="${TMPDIR:-/tmp}"
rounds=5
flags=-l
backend=auto
bin="${ACTIO_WC:-$root/build/bin/actio-wc}"
per_cmd_timeout=120 # seconds, per count

usage() {
  cat <<EOF2
usage: bench/wc/run_wc_bench.sh [options]
Warm-cache line count of one large file: LC_ALL=C wc -l vs actio-wc -l,
interleaved, in the same run; outputs must be equal.

  --size N        file size, as for numfmt --from=iec (default 1G = 1 GiB)
  --dir DIR       parent of the scratch directory (default \${TMPDIR:-/tmp})
  --rounds N      rounds per tool; median and best are reported (default 5)
  --flags F       wc flags for both tools (default -l; e.g. -c, -lc, -lwc)
  --backend B     actio-wc --backend (default auto)
  --bin PATH      actio-wc to run (default: build/bin/actio-wc, or \$ACTIO_WC)
  --help          this text
Figures from a shared or loaded machine are noisy: prefer several rounds.
EOF2
}

die() {
  echo "wc_bench: $*" >&2
  exit 1
}

bad() {
  echo "wc_bench: $*" >&2
  echo "(--help for usage)" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  opt="$1"
  val=""
  case "$opt" in
    --help|-h) usage; exit 0 ;;
    --*=*) val="${opt#*=}"; opt="${opt%%=*}" ;;
    --size|--dir|--rounds|--flags|--backend|--bin)
      [[ $# -ge 2 ]] || bad "$opt needs a value"
      val="$2"; shift ;;
    *) bad "unknown argument '$opt'" ;;
  esac
  case "$opt" in
    --size) size_arg="$val" ;;
    --dir) parent="$val" ;;
    --rounds) rounds="$val" ;;
    --flags) flags="$val" ;;
    --backend) backend="$val" ;;
    --bin) bin="$val" ;;
    *) bad "unknown option '$opt'" ;;
  esac
  shift
done

size=$(numfmt --from=iec "$size_arg" 2>/dev/null) || bad "bad --size '$size_arg'"
[[ "$size" =~ ^[0-9]+$ && "$size" -gt 0 ]] || bad "bad --size '$size_arg'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || bad "bad --rounds '$rounds'"
[[ "$flags" =~ ^-[lwc]+$ ]] || bad "bad --flags '$flags' (like -l, -lc)"
[[ -x "$bin" ]] || die "no actio-wc at $bin (build first: cmake --build build)"
[[ -d "$parent" ]] || die "--dir $parent is not a directory"

avail_kib=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
need_kib=$(( (size + size / 8 + 1023) / 1024 ))
(( avail_kib >= need_kib )) \
  || die "$parent has $(( avail_kib / 1024 )) MiB free, needs $(( need_kib / 1024 )) MiB; use --dir or a smaller --size"

work="$(mktemp -d "$parent/actio-wc-bench.XXXXXX")" || die "cannot create a directory in $parent"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
file="$work/text.txt"

gib=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1073741824 }')
echo "wc_bench: $gib GiB in $work, flags $flags, actio-wc --backend=$backend," \
     "$rounds rounds each (interleaved)"
echo "wc_bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "wc_bench: writing the file ..."
# Random printable lines of 0-200 bytes: 1 MiB generated once, repeated.
timeout "$per_cmd_timeout" awk 'BEGIN {
    srand(7); n = 0
    while (n < 1048576) {
      len = int(rand() * 201); line = ""
      for (i = 0; i < len; ++i) line = line sprintf("%c", 32 + int(rand() * 95))
      print line; n += len + 1
    } }' > "$work/block" || die "could not generate text"
timeout "$per_cmd_timeout" bash -c 'while cat "$1"; do :; done' fill "$work/block" 2>/dev/null \
  | head -c "$size" > "$file" || true
rm -f -- "$work/block"
[[ "$(stat -c %s "$file")" == "$size" ]] || die "could not write $size bytes to $file"
# Warm the page cache (twice: the first read may still be writing back).
cat "$file" > /dev/null
cat "$file" > /dev/null

# One timed run: prints "seconds<TAB>cpu seconds<TAB>output line" (CPU =
# user + system of the tool, all threads); fails if the tool did.
time_one() {
  local t0 t1 out cpu
  t0=$EPOCHREALTIME
  out=$(TIMEFORMAT='%3U %3S'; { time timeout "$per_cmd_timeout" "$@" 2> "$work/err.log" \
          > "$work/out.txt"; } 2> "$work/time.txt") \
    || { echo "wc_bench: failed: $*" >&2; cat "$work/err.log" >&2; return 1; }
  t1=$EPOCHREALTIME
  out=$(cat "$work/out.txt")
  cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$work/time.txt")
  awk -v a="$t0" -v b="$t1" -v c="$cpu" -v o="$out" \
    'BEGIN { printf "%.6f\t%s\t%s", b - a, c, o }'
}

names=("wc" "actio-wc")
declare -A secs cpus outs
for (( r = 1; r <= rounds; ++r )); do
  echo "round $r/$rounds:"
  for name in "${names[@]}"; do
    case "$name" in
      wc) res=$(LC_ALL=C time_one wc "$flags" "$file") ;;
      actio-wc) res=$(time_one "$bin" "--backend=$backend" "$flags" "$file") ;;
    esac || die "run of $name failed"
    IFS=$'\t' read -r t c o <<< "$res"
    outs[$name]="$o"
    secs[$name]+="$t "
    cpus[$name]+="$c "
    printf '  %-9s %7.3f s  %6.2f GiB/s  cpu %6.3f s   %s\n' "$name" "$t" \
      "$(awk -v s="$size" -v t="$t" 'BEGIN { printf "%.2f", s / 1073741824 / t }')" \
      "$c" "${outs[$name]}"
  done
  [[ "${outs[wc]}" == "${outs[actio-wc]}" ]] \
    || die "outputs differ: wc '${outs[wc]}' vs actio-wc '${outs[actio-wc]}'"
done

# "median best" of a list of seconds (best = shortest)
stats() {
  tr ' ' '\n' <<< "$1" | awk 'NF' | sort -g \
    | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.6f %.6f", m, v[1] }'
}

echo
echo "wc_bench: $gib GiB, page cache warm, outputs equal; median and best of $rounds:"
declare -A med cmed
for name in "${names[@]}"; do
  read -r m b <<< "$(stats "${secs[$name]}")"
  read -r cm cb <<< "$(stats "${cpus[$name]}")"
  med[$name]=$m
  cmed[$name]=$cm
  awk -v n="$name" -v m="$m" -v b="$b" -v c="$cm" -v s="$size" 'BEGIN {
    printf "%-9s median %7.3f s %6.2f GiB/s   best %7.3f s %6.2f GiB/s   CPU median %6.3f s\n",
      n ":", m, s / 1073741824 / m, b, s / 1073741824 / b, c }'
done
awk -v a="${med[actio-wc]}" -v w="${med[wc]}" \
  'BEGIN { printf "ratio actio-wc/wc: %.2f (target >= 1.0)\n", w / a }'
awk -v a="${cmed[actio-wc]}" -v w="${cmed[wc]}" \
  'BEGIN { printf "CPU seconds actio-wc/wc: %.2f (user + system, all threads; for reference)\n", a / w }'
echo "wc_bench: note: wall-clock times on a possibly shared machine" \
     "($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)); interleaved rounds, medians."
