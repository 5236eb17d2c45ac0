#!/usr/bin/env bash
# test_cli.sh — the river command against two riverd started by this test on
# loopback: `river vms` lists both (multicast on lo: only inside a private
# network namespace, as root; otherwise through a seed peer), `river ps`
# shows their VRs with type names, `river send` delivers (and reports a
# missing VR), `river kill` stops a VR, --json everywhere, --help on every
# subcommand, usage errors exit 2.  Waits have a safety cap only.
set -u
if [ "$(id -u)" = 0 ] && [ -z "${RIVER_CLI_INNER:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
    export RIVER_CLI_INNER=1
    exec unshare -n -- bash -c 'ip link set lo up && ip link set lo multicast on && exec "$0" "$@"' "$0" "$@"
fi
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RIVER="$TOP_BUILDDIR/tools/river"
RIVERD="$TOP_BUILDDIR/tools/riverd"
SAFETY=60
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-cli.XXXXXX")
PIDS=""
PASSED=0
FAILED=0
trap 'for p in $PIDS; do kill -TERM $p 2>/dev/null; done; for p in $PIDS; do wait $p 2>/dev/null; done; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

GROUP=239.255.77.79
PORT=$((20000 + ($$ + 7) % 20000))
if [ -n "${RIVER_CLI_INNER:-}" ]; then MCAST=1; else MCAST=0; fi
if [ $MCAST = 1 ]; then
    export RIVER_MCAST_GROUP=$GROUP RIVER_MCAST_PORT=$PORT RIVER_MCAST_IF=lo
else
    export RIVER_DISCOVERY=off   # never multicast on the host's interfaces
fi
echo "# private network namespace with multicast on lo: $MCAST"

# daemon NAME [args]: starts riverd on 127.0.0.1, sets ADDR_NAME and VM_NAME.
daemon() {
    local name=$1; shift
    "$RIVERD" --bind 127.0.0.1 --log-level info --label name=$name "$@" 2>"$WORK/$name.err" &
    local pid=$! i=0
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    while ! grep -q 'listening on' "$WORK/$name.err" 2>/dev/null; do
        if ! kill -0 $pid 2>/dev/null || [ $i -ge $((SAFETY * 10)) ]; then
            echo "riverd $name did not start:"; cat "$WORK/$name.err"; return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
    eval "ADDR_$name=$(sed -n 's/.*listening on //p' "$WORK/$name.err" | head -1)"
    eval "VM_$name=$(sed -n 's/^riverd: VM \([^ ]*\) listening.*/\1/p' "$WORK/$name.err" | head -1)"
}

# --- help and usage ------------------------------------------------------------
for c in ps send kill; do
    check "river $c --help" "$RIVER" $c --help >/dev/null
done
"$RIVER" send >/dev/null 2>&1; check "send without a UUID: usage error" test $? = 2
"$RIVER" kill not-a-uuid >/dev/null 2>&1; check "kill of a non-UUID: usage error" test $? = 2
"$RIVER" ps --bogus >/dev/null 2>&1; check "unknown option: usage error" test $? = 2

# --- two riverd ------------------------------------------------------------------
daemon d1 || exit 1
daemon d2 || exit 1
if [ $MCAST = 1 ]; then
    "$RIVER" vms --json --count 2 --timeout $((SAFETY * 1000)) >"$WORK/vms" 2>&1
else
    "$RIVER" vms --json --count 2 --mcast-group off --peer "$ADDR_d1" --peer "$ADDR_d2" \
        --timeout $((SAFETY * 1000)) >"$WORK/vms" 2>&1
fi
check "river vms lists both riverd" grep -q "$VM_d1" "$WORK/vms"
check "... the second one too" grep -q "$VM_d2" "$WORK/vms"
check "... and not the river commands' own VMs" test "$(grep -c '^{"uuid"' "$WORK/vms")" = 2

VMS=(--vm "$ADDR_d1" --vm "$ADDR_d2" --timeout $((SAFETY * 1000)))
"$RIVER" ps "${VMS[@]}" >"$WORK/ps" 2>&1
check "river ps: a table per VM" grep -q "^VM $VM_d1" "$WORK/ps"
check "river ps: the daemon's VR and its type" grep -q "river.Daemon" "$WORK/ps"
"$RIVER" ps --json "${VMS[@]}" >"$WORK/ps.json" 2>&1
check "river ps --json: both VMs" test "$(grep -c '"vrs":' "$WORK/ps.json")" = 2
VR2=$(grep "\"vm\":\"$VM_d2\"" "$WORK/ps.json" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
VR1=$(grep "\"vm\":\"$VM_d1\"" "$WORK/ps.json" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
check "river ps --json: VR UUIDs" test -n "$VR1" -a -n "$VR2"
if [ $MCAST = 1 ]; then
    "$RIVER" ps --json --count 2 --timeout $((SAFETY * 1000)) >"$WORK/ps.disc" 2>&1
    check "river ps finds the VMs by discovery" grep -q "$VM_d2" "$WORK/ps.disc"
fi

# --- send ------------------------------------------------------------------------
"$RIVER" send "${VMS[@]}" "$VR2" tag=greeting n=42 big=18446744073709551615 x=2.5 yes=true \
    'msg="two words"' id="$VR1" >"$WORK/send" 2>&1
check "river send: delivered" test $? = 0
check "river send: says where" grep -q "on VM $VM_d2" "$WORK/send"
"$RIVER" ps --json --vm "$ADDR_d2" >"$WORK/ps2" 2>&1
check "the message waits in the VR's mailbox" grep -q '"pending":1' "$WORK/ps2"
"$RIVER" send --json "${VMS[@]}" "$VR1" tag=t >"$WORK/send.json" 2>&1
check "river send --json" grep -q "\"ok\":true,\"vm\":\"$VM_d1\"" "$WORK/send.json"
NOBODY=6c1f3e2a-0000-4000-8000-000000000001
"$RIVER" send "${VMS[@]}" $NOBODY tag=t >/dev/null 2>&1
check "river send to a VR nobody runs: exit 1" test $? = 1
"$RIVER" send "${VMS[@]}" "$VR2" n=1 >/dev/null 2>&1
check "river send without tag=: usage error" test $? = 2

# --- kill ------------------------------------------------------------------------
"$RIVER" kill --json "${VMS[@]}" "$VR1" >"$WORK/kill" 2>&1
check "river kill: done" grep -q '"ok":true' "$WORK/kill"
check "riverd logged who asked" grep -q "asked to stop" "$WORK/d1.err"
"$RIVER" send "${VMS[@]}" "$VR1" tag=t >"$WORK/send2" 2>&1
check "a killed VR receives nothing more" test $? = 1
"$RIVER" kill "${VMS[@]}" $NOBODY >/dev/null 2>&1
check "river kill of a VR nobody runs: exit 1" test $? = 1

# --- the daemons stop cleanly ------------------------------------------------------
for d in d1 d2; do
    eval "pid=\$PID_$d"
    kill -TERM $pid; wait $pid
    check "riverd $d stops on SIGTERM with status 0" test $? = 0
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
done

echo "subtests: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
