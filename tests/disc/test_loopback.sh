#!/usr/bin/env bash
# test_loopback.sh — discovery between disc_node processes on one host:
# multicast on lo, seed peers, filters, status, malformed datagrams, clean
# stops, and the river command's help and stubs.
#
# As root the test runs in a network namespace of its own (unshare -n),
# where lo can be given the MULTICAST flag without touching the host.  As
# another user it runs on the host's lo: with multicast if lo has the flag,
# otherwise the multicast checks are reported as SKIP and the rest runs.
set -u
if [ "$(id -u)" = 0 ] && [ -z "${RIVER_DISC_INNER:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
    export RIVER_DISC_INNER=1
    exec unshare -n -- bash -c 'ip link set lo up && ip link set lo multicast on && exec "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/disc_lib.sh"
trap 'cleanup_procs; rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

GROUP=239.255.77.78
PORT=$((20000 + $$ % 20000))
MC=(--mcast-if lo --mcast-group $GROUP --mcast-port $PORT)
OFF=(--mcast-group off)
if command -v ip >/dev/null && ip link show lo | grep -q MULTICAST; then MCAST=1; else MCAST=0; fi
echo "# in a private network namespace: ${RIVER_DISC_INNER:-no}; multicast on lo: $MCAST"

# --- the river command itself ------------------------------------------------
check "river --help" "$RIVER" --help >/dev/null
check "river vms --help" "$RIVER" vms --help >/dev/null
check "river ps --help" "$RIVER" ps --help >/dev/null
# (ps, send and kill themselves are tested in tests/net/test_cli.sh)
"$RIVER" send x tag=y >/dev/null 2>&1; check "river send x: not a UUID (exit 2)" test $? = 2
"$RIVER" kill x >/dev/null 2>&1; check "river kill x: not a UUID (exit 2)" test $? = 2
"$RIVER" vms --filter nonsense >/dev/null 2>&1; check "a bad --filter is a usage error" test $? = 2

# --- multicast ---------------------------------------------------------------
if [ $MCAST = 1 ]; then
    start m1 -- "${MC[@]}" --label name=m1 --label role=master
    start m2 -- "${MC[@]}" --label name=m2 --label role=worker
    start m3 -- "${MC[@]}" --label name=m3 --label role=worker --status allocated
    vms "$WORK/all" -- "${MC[@]}" --count 3 --timeout $((SAFETY * 1000))
    check "multicast: 3 VMs found" test "$(nvms "$WORK/all")" = 3
    check "multicast: each by name" eval 'has "$WORK/all" m1 && has "$WORK/all" m2 && has "$WORK/all" m3'
    check "multicast: addresses are 127.0.0.1:port" has_addr "$WORK/all" "$ADDR_m2"
    check "multicast: attributes present" grep -q '"cores":[0-9]*,"load":[0-9.e-]*,"mem_free":[0-9]*' "$WORK/all"
    vms "$WORK/w" -- "${MC[@]}" --filter role=worker --count 2 --timeout $((SAFETY * 1000))
    check "filter role=worker: m2 and m3 only" eval '[ "$(nvms "$WORK/w")" = 2 ] && ! has "$WORK/w" m1'
    vms "$WORK/a" -- "${MC[@]}" --filter status=allocated --filter 'cores>=1' --count 1 --timeout $((SAFETY * 1000))
    check "filter status=allocated and cores>=1: m3" eval 'has "$WORK/a" m3 && [ "$(nvms "$WORK/a")" = 1 ]'
    vms "$WORK/none" -- "${MC[@]}" --filter 'cores>100000' --timeout 1500
    check "filter cores>100000: none" test "$(nvms "$WORK/none")" = 0
    "$RIVER" vms "${MC[@]}" --timeout 3000 --count 3 >"$WORK/table"
    check "table output has a header and 3 rows" eval '[ "$(wc -l <"$WORK/table")" = 4 ] && head -1 "$WORK/table" | grep -q "^UUID .*ADDRESS .*LABELS"'
    check "clean stop of m1, m2, m3" eval 'stop m1 && stop m2 && stop m3'
else
    echo "SKIP - multicast checks: lo has no MULTICAST flag and this is not root"
fi

# --- seed peers (multicast off everywhere) ------------------------------------
start s1 -- "${OFF[@]}" --label name=s1
start s2 -- "${OFF[@]}" --label name=s2 --peer "$ADDR_s1"
start s3 -- "${OFF[@]}" --label name=s3 --peer "$ADDR_s1"
start s4 -- "${OFF[@]}" --label name=s4 --peer "$ADDR_s2"
vms "$WORK/seed" -- "${OFF[@]}" --peer "$ADDR_s1" --count 4 --timeout $((SAFETY * 1000))
check "seeds: the hub's peer finds all 4" test "$(nvms "$WORK/seed")" = 4
vms "$WORK/seed3" -- "${OFF[@]}" --peer "$ADDR_s3" --count 4 --timeout $((SAFETY * 1000))
check "seeds: a leaf (s3) as the only peer finds all 4" eval '[ "$(nvms "$WORK/seed3")" = 4 ] && has "$WORK/seed3" s4'
RIVER_PEERS="$ADDR_s4" vms "$WORK/env" -- "${OFF[@]}" --count 4 --timeout $((SAFETY * 1000))
check "seeds: RIVER_PEERS works the same" test "$(nvms "$WORK/env")" = 4

# --- malformed datagrams against a live endpoint -------------------------------
check "garbage sent to s1" "$NODE" --garbage "$ADDR_s1" >/dev/null
check "garbage sent to s2" "$NODE" --garbage "$ADDR_s2" >/dev/null
check "s1 still running" kill -0 "$PID_s1"
vms "$WORK/after" -- "${OFF[@]}" --peer "$ADDR_s1" --count 4 --timeout $((SAFETY * 1000))
check "after garbage: all 4 still answer" test "$(nvms "$WORK/after")" = 4
RIVER_LOG=debug "$NODE" --garbage "$ADDR_s3" >/dev/null
check "clean stop of s1..s4" eval 'stop s1 && stop s2 && stop s3 && stop s4'

finish
