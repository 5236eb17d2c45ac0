#!/usr/bin/env bash
# test_netns_deploy.sh — a program spreading to hosts that never had it:
# network namespaces A, B, C, D joined by veth pairs to a bridge in a fifth
# namespace (nothing touches the host's network).  Bare riverd on B, C, D
# (each with its own, empty, code cache and the cluster secret); examples/pi
# on A finds them through a seed peer (B, which C and D name), allocates
# them, deploys its own Worker type on each — so each riverd receives the
# pi executable, verifies it and runs it as a child VM — and the estimate
# is right, with every host contributing.  Root only; SKIP (exit 77)
# otherwise.  Waits have a safety cap only.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: test_netns_deploy.sh needs root (network namespaces, veth pairs, a bridge)"
    exit 77
fi
if ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
    echo "SKIP: test_netns_deploy.sh needs iproute2 and nsenter"
    exit 77
fi
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RIVER="$TOP_BUILDDIR/tools/river"
RIVERD="$TOP_BUILDDIR/tools/riverd"
PI="$TOP_BUILDDIR/examples/pi/pi"
SAFETY=60
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-nsdeploy.XXXXXX")
P="rvd$$"
NS="${P}br ${P}a ${P}b ${P}c ${P}d"
PIDS=""
PASSED=0
FAILED=0
cleanup() {
    for p in $PIDS; do kill -TERM $p 2>/dev/null; done
    for p in $PIDS; do wait $p 2>/dev/null; done
    for n in $NS; do ip netns del "$n" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

. "$(dirname "$0")/../netns_lib.sh"
netns_hosts "$P" 10.79.0 a b c d
# nsenter, not "ip netns exec" (which remounts / and fails in a chroot).
on() { local h=$1; shift; nsenter --net=/run/netns/"${P}$h" "$@"; }
export RIVER_MCAST_GROUP=off    # seed peers only
unset RIVER_BIND RIVER_PEERS RIVER_DISCOVERY RIVER_SECRET_FILE
"$RIVER" keygen "$WORK/cluster.key" >/dev/null || exit 1

# bg NAME HOST cmd...: riverd on HOST in the background, waits for "listening on".
bg() {
    local name=$1 h=$2; shift 2
    RIVER_CACHE_DIR="$WORK/cache-$h" nsenter --net=/run/netns/"${P}$h" "$@" >"$WORK/$name" 2>&1 &
    local pid=$! i=0
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    while ! grep -q "listening on" "$WORK/$name" 2>/dev/null; do
        if ! kill -0 $pid 2>/dev/null || [ $i -ge $((SAFETY * 10)) ]; then
            echo "$name did not start:"; cat "$WORK/$name"; return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
}
bg db b "$RIVERD" --port 7201 --secret-file "$WORK/cluster.key" || exit 1
bg dc c "$RIVERD" --port 7201 --secret-file "$WORK/cluster.key" --peer 10.79.0.2:7201 || exit 1
bg dd d "$RIVERD" --port 7201 --secret-file "$WORK/cluster.key" --peer 10.79.0.2:7201 || exit 1
for h in b c d; do
    check "host $h never had the program (empty cache)" test -z "$(ls "$WORK/cache-$h" 2>/dev/null)"
done

# C and D announce themselves to B; give the lists a moment (B's table is what A follows).
i=0
while [ $i -lt $((SAFETY * 10)) ]; do
    n=$(on a "$RIVER" vms --json --mcast-group off --peer 10.79.0.2:7201 --count 3 --timeout 2000 2>/dev/null | grep -c '^{"uuid"')
    [ "$n" -ge 3 ] && break
    sleep 0.2; i=$((i + 1))
done
check "A sees the three riverd through the seed on B" test "${n:-0}" -ge 3

RIVER_SECRET_FILE="$WORK/cluster.key" on a "$PI" --workers=1 --per_vm=2 --samples=3000000 \
    --discover_ms=3000 --peer 10.79.0.2:7201 --log-level=info >"$WORK/pi" 2>&1
check "pi on A: exit 0" test $? = 0
v=$(sed -n 's/^pi = \([0-9.][0-9.]*\) .*/\1/p' "$WORK/pi" | head -n 1)
check "pi on A: the estimate is right ($v)" awk -v v="$v" 'BEGIN { d = v - 3.141592653589793; if (d < 0) d = -d; exit !(v != "" && d < 0.01) }'
for i in 2 3 4; do
    check "pi on A: VM 10.79.0.$i did a share" grep -Eq "^  vm .* 10\.79\.0\.$i:7201 +[1-9][0-9]* samples" "$WORK/pi"
done
check "pi on A: it sent its program" test "$(grep -c 'sending this program' "$WORK/pi")" = 3
for h in b c d; do
    check "riverd on $h received and verified the program" grep -q "SHA-256 verified, cached" "$WORK/d$h"
    check "... it is now in $h's cache" test "$(ls "$WORK/cache-$h" | grep -c '^[0-9a-f]\{64\}$')" = 1
    check "... and ran it as a child VM" grep -q "child VM .* runs program" "$WORK/d$h"
done
if [ "$FAILED" != 0 ]; then cat "$WORK/pi"; fi

for n in db dc dd; do
    eval "pid=\$PID_$n"
    kill -TERM $pid; wait $pid
    check "$n stops cleanly (with its child VM)" test $? = 0
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
done
echo "subtests: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
