#!/usr/bin/env bash
# test_pi_vms.sh — examples/pi across VMs on loopback: three bare riverd
# with a fresh cluster secret, found through seed peers (multicast off);
# the master allocates them, deploys its own Worker type on each (code
# push), and prints the same estimate as with zero riverd (the points do
# not depend on who computes them), with a share for every VM.  Then the
# riverd are available again.
. "$(dirname "$0")/lib.sh"
PI="$TOP_BUILDDIR/examples/pi/pi"
unset RIVER_DISCOVERY                  # riverd answer probes from seeds ...
export RIVER_MCAST_GROUP=off           # ... but nothing is multicast
secret k
for n in r1 r2 r3; do daemon $n --secret-file "$WORK/k.key" || exit 1; done
PEERS="--peer $ADDR_r1 --peer $ADDR_r2 --peer $ADDR_r3"

"$PI" --workers=2 --samples=400000 --discover_ms=0 >"$WORK/local" 2>&1
check "zero riverd: threads only" grep -q '^  vm   (this VM: threads) .* 400000 samples 100.0%' "$WORK/local"
RIVER_SECRET_FILE="$WORK/k.key" "$PI" --workers=1 --per_vm=2 --samples=400000 \
    --discover_ms=2000 $PEERS >"$WORK/multi" 2>&1
check "three riverd: exit 0" test $? = 0
a=$(sed -n 's/^pi = \([0-9.]*\) .*/\1/p' "$WORK/local")
b=$(sed -n 's/^pi = \([0-9.]*\) .*/\1/p' "$WORK/multi")
check "the same estimate with zero and three riverd ($a, $b)" test -n "$a" -a "$a" = "$b"
check "7 workers: 1 here, 2 on each riverd" grep -q "7 workers" "$WORK/multi"
for n in r1 r2 r3; do
    eval "addr=\$ADDR_$n"
    check "a share on $n" grep -Eq "^  vm .* $addr +[0-9]+ samples .*\(2 workers\)" "$WORK/multi"
    check "$n got the program" grep -q "SHA-256 verified, cached" "$WORK/$n.err"
    check "$n released after the run" grep -q "released by VR" "$WORK/$n.err"
done
# Without the secret the riverd refuse the connection; pi still runs on threads.
"$PI" --workers=2 --samples=400000 --discover_ms=1000 $PEERS >"$WORK/nosecret" 2>&1
check "without the secret: still computed here" grep -q '^  vm   (this VM: threads) .* 400000 samples 100.0%' "$WORK/nosecret"
for n in r1 r2 r3; do check "$n stops cleanly" stop $n; done
if [ "$FAILED" != 0 ]; then show "$WORK/multi"; show "$WORK/nosecret"; fi
finish
