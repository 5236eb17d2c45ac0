#!/usr/bin/env bash
# bench_deploy.sh — runs bench_deploy: three VMs with the type (bench_deploy
# --mode=serve) and one bare riverd with an empty code cache, all on
# 127.0.0.1 with a fresh cluster secret; stops them on exit.
set -u
B=$(pwd)
TOP=${TOP_BUILDDIR:-$B/..}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill -TERM $p 2>/dev/null; done; for p in $PIDS; do wait $p 2>/dev/null; done; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM
export RIVER_DISCOVERY=off RIVER_BIND=127.0.0.1 RIVER_CACHE_DIR="$WORK/cache"
"$TOP/tools/river" keygen "$WORK/k" >/dev/null || exit 1
export RIVER_SECRET_FILE="$WORK/k"
wait_for() {   # file pattern
    local i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        [ $i -ge 300 ] && { echo "bench_deploy: a VM did not start"; cat "$1"; exit 1; }
        sleep 0.1; i=$((i + 1))
    done
}
T=""
for n in 1 2 3; do
    "$B/bench_deploy" --mode=serve >"$WORK/s$n" 2>&1 &
    PIDS="$PIDS $!"
    wait_for "$WORK/s$n" '^ready'
    T="$T${T:+,}$(awk '/^ready/ { print $3 }' "$WORK/s$n")"
done
"$TOP/tools/riverd" 2>"$WORK/d" &
PIDS="$PIDS $!"
wait_for "$WORK/d" 'listening on'
D=$(sed -n 's/.*listening on //p' "$WORK/d" | head -1)
"$B/bench_deploy" --mode=run --targets="$T" --riverd="$D"
