#!/usr/bin/env bash
# test_hosts.sh — VMs on three hosts: network namespaces A, B, C joined by
# veth pairs to a bridge in a fourth namespace (nothing touches the host's
# network).  Root only; SKIP (exit 77) otherwise.
#
#   1. riverd on B and C; `river vms` on A lists both (multicast across
#      hosts) and `river ps` on A shows their VRs;
#   2. a program on A (hosts_node client) finds the server VM on C with
#      rvr_discover, its VR with the control op ps, and exchanges a dynamic
#      and a typed message with it across hosts;
#   3. multicast blocked at the bridge: the same through seed peers (A knows
#      only riverd on B, which knows C).
# Waits have a safety cap only.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: test_hosts.sh needs root (network namespaces, veth pairs, a bridge)"
    exit 77
fi
if ! command -v ip >/dev/null || ! command -v bridge >/dev/null; then
    echo "SKIP: test_hosts.sh needs iproute2 (ip, bridge)"
    exit 77
fi
BUILDDIR=$(pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$BUILDDIR/../..}
RIVER="$TOP_BUILDDIR/tools/river"
RIVERD="$TOP_BUILDDIR/tools/riverd"
NODE="$BUILDDIR/hosts_node"
SAFETY=60
T=$((SAFETY * 1000))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-hosts.XXXXXX")
P="rvh$$"
NS="${P}br ${P}a ${P}b ${P}c"
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
netns_hosts "$P" 10.78.0 a b c
# nsenter, not "ip netns exec" (which remounts / and fails in a chroot).
on() { local h=$1; shift; nsenter --net=/run/netns/"${P}$h" "$@"; }
export RIVER_MCAST_GROUP=239.255.77.80 RIVER_MCAST_PORT=7080 RIVER_MCAST_IF=eth0

# bg NAME HOST WAITFOR cmd...: runs cmd on HOST in the background and waits
# until its output (stdout+stderr, in $WORK/NAME) contains WAITFOR.
bg() {
    local name=$1 h=$2 want=$3; shift 3
    nsenter --net=/run/netns/"${P}$h" "$@" >"$WORK/$name" 2>&1 &   # nsenter execs the command: same pid
    local pid=$! i=0
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    while ! grep -q "$want" "$WORK/$name" 2>/dev/null; do
        if ! kill -0 $pid 2>/dev/null || [ $i -ge $((SAFETY * 10)) ]; then
            echo "$name did not start:"; cat "$WORK/$name"; return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
}

# --- 1. riverd on B and C, seen from A --------------------------------------------
bg db b "listening on" "$RIVERD" --port 7101 --label name=db || exit 1
bg dc c "listening on" "$RIVERD" --port 7101 --label name=dc --peer 10.78.0.2:7101 || exit 1
bg srv c "^ready " "$NODE" --mode=server --name=hostC --port 7102 --label role=server \
    --peer 10.78.0.2:7101 || exit 1
on a "$RIVER" vms --json --count 3 --timeout $T >"$WORK/vms" 2>&1
check "river vms on A: riverd of B" grep -q '"name":"db"' "$WORK/vms"
check "river vms on A: riverd of C" grep -q '"name":"dc"' "$WORK/vms"
check "river vms on A: at the hosts' addresses" grep -q '"address":"10.78.0.3:7101"' "$WORK/vms"
on a "$RIVER" ps --vm 10.78.0.2:7101 --vm 10.78.0.3:7102 --timeout $T >"$WORK/ps" 2>&1
check "river ps on A: riverd's VR on B" grep -q "river.Daemon" "$WORK/ps"
check "river ps on A: the server VR on C" grep -q "tests.HostsServer" "$WORK/ps"

# --- 2. a program on A talks to a VR on C ------------------------------------------
on a "$NODE" --mode=client --find=role=server --timeout=$T >"$WORK/client" 2>&1
check "client on A: exit 0" test $? = 0
check "client on A: found the server by rvr_discover" grep -q "^ok discovered 10.78.0.3:7102" "$WORK/client"
check "client on A: dynamic reply from host C" grep -q "^ok dynamic reply from hostC" "$WORK/client"
check "client on A: typed reply" grep -q "^ok typed reply" "$WORK/client"

# --- 3. multicast blocked: seed peers ----------------------------------------------
for h in a b c; do nsenter --net=/run/netns/"${P}br" bridge link set dev "p$h" mcast_flood off; done
on a "$NODE" --mode=client --find=role=server --timeout=$T --peer 10.78.0.2:7101 \
    >"$WORK/client2" 2>&1
check "blocked: client on A through the seed on B: exit 0" test $? = 0
check "blocked: typed reply" grep -q "^ok typed reply" "$WORK/client2"
on a "$RIVER" vms --json --mcast-group off --peer 10.78.0.2:7101 --count 3 --timeout $T \
    >"$WORK/vms2" 2>&1
check "blocked: river vms through the seed lists C's VMs" grep -q '"name":"dc"' "$WORK/vms2"

for n in db dc; do
    eval "pid=\$PID_$n"
    kill -TERM $pid; wait $pid
    check "$n stops cleanly" test $? = 0
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
done
kill -TERM $PID_srv; wait $PID_srv 2>/dev/null; PIDS=$(echo "$PIDS" | sed "s/ $PID_srv\b//")
echo "subtests: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
