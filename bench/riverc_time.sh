#!/bin/sh
# riverc_time.sh RIVERC [RUNS] — times riverc on a generated .rvr with
# 1,000 messages (gen_rvr.sh), RUNS times (default 10), and prints the
# fastest and the median run against the 0.2 s target.  Not a test: `make
# bench` only.
riverc=${1:?usage: riverc_time.sh RIVERC [RUNS]}
runs=${2:-10}
here=$(dirname "$0")
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sh "$here/gen_rvr.sh" 1000 > "$tmp/big.rvr" || exit 1
"$riverc" -o "$tmp" "$tmp/big.rvr" || { echo "riverc failed on the generated file"; exit 1; }
: > "$tmp/times"
i=0
while [ "$i" -lt "$runs" ]; do
    t0=$(date +%s%N)
    "$riverc" -o "$tmp" "$tmp/big.rvr" || exit 1
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) >> "$tmp/times"
    i=$((i + 1))
done
lines=$(wc -l < "$tmp/big.rvr")
out=$(cat "$tmp/big.rvr.c" "$tmp/big.rvr.h" | wc -l)
sort -n "$tmp/times" | awk -v runs="$runs" -v lines="$lines" -v out="$out" '
    { t[NR] = $1 }
    END {
        med = t[int((NR + 1) / 2)]
        printf "riverc, 1000 messages (%d lines in, %d lines of C out), %d runs\n", lines, out, runs
        printf "  %-34s %10.3f s    median %.3f s    (target < 0.2 s)\n", "fastest run", t[1] / 1e6, med / 1e6
    }'
