#!/usr/bin/env bash
# test_alloc.sh — allocation (river/deploy.h): two programs allocating the
# same riverd at the same moment: exactly one wins, the other is told who
# holds it; the VM advertises "allocated"; it is released when the owner
# VR returns, and when the owner's VM is killed (after the grace period).
. "$(dirname "$0")/lib.sh"

export RIVER_ALLOC_GRACE_MS=300
daemon d1 || exit 1

state() { "$NODE" --mode=state --target "$ADDR_d1" 2>/dev/null | sed -n 's/^state //p'; }
check "a fresh riverd is available" test "$(state)" = available

# The race, repeated: both programs connect first, then ask at the same instant.
for round in 1 2 3; do
    AT=$(( $(date +%s%3N) + 1500 ))
    "$NODE" --mode=allocate --target "$ADDR_d1" --at_ms=$AT --hold_ms=3000 >"$WORK/a.out" 2>&1 &
    PA=$!
    "$NODE" --mode=allocate --target "$ADDR_d1" --at_ms=$AT --hold_ms=3000 >"$WORK/b.out" 2>&1 &
    PB=$!
    PIDS="$PIDS $PA $PB"
    wait $PA; SA=$?
    wait $PB; SB=$?
    PIDS=$(echo "$PIDS" | sed "s/ $PA\b//; s/ $PB\b//")
    won=$(cat "$WORK/a.out" "$WORK/b.out" | grep -c '^allocated ')
    lost=$(cat "$WORK/a.out" "$WORK/b.out" | grep -c '^allocate refused')
    check "race $round: exactly one of two programs wins ($SA/$SB)" test "$won" = 1 -a "$lost" = 1
    # The winner held it for 3 s and returned: released by the VR's end.
    check "race $round: released when the owner VR returned" test "$(state)" = available
done
check "riverd logged the grants" grep -q "allocated to VR" "$WORK/d1.err"
check "... and the releases" grep -q "released by VR" "$WORK/d1.err"

# Allocated while the owner runs: others are refused; the state says so.
"$NODE" --mode=allocate --target "$ADDR_d1" --hold_ms=600000 >"$WORK/h.out" 2>&1 &
PH=$!
PIDS="$PIDS $PH"
i=0
while ! grep -q '^allocated' "$WORK/h.out" && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
check "a holder allocated it" grep -q '^allocated' "$WORK/h.out"
check "the VM says allocated" test "$(state)" = allocated
"$NODE" --mode=allocate --target "$ADDR_d1" --log-level=info >"$WORK/o.out" 2>&1
check "another program is refused while it is held" test $? = 3
check "... and told who holds it" grep -q "allocated to VR" "$WORK/o.out"

# The owner's VM is killed: released after the grace period.
kill -9 $PH; wait $PH 2>/dev/null
PIDS=$(echo "$PIDS" | sed "s/ $PH\b//")
i=0
while [ "$(state)" != available ] && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
check "released when the owner's VM is lost" test "$(state)" = available
check "... with a logged reason" grep -q "owner's VM .* is lost" "$WORK/d1.err"
"$NODE" --mode=allocate --target "$ADDR_d1" >"$WORK/n.out" 2>&1
check "it can be allocated again" test $? = 0

check "riverd stops cleanly" stop d1
finish
