#!/usr/bin/env bash
# test_deploy.sh — deployment (river/deploy.h, docs/deploy.md) on loopback:
#   1. by type onto a VM that has it (the same program running as a VM):
#      typed arguments and by name with a dynamic packet; the new VRs answer
#      their parent, the deployer, across VMs;
#   2. code push to a bare riverd (with the cluster secret): the program is
#      sent, verified, cached and run as a child VM;
#   3. a second deploy reuses the child VM: no second transfer;
#   4. without a secret, a bare riverd cannot get the program: the error
#      says so;
#   5. an arch mismatch (simulated with RIVER_ARCH on riverd) is refused
#      before any code is sent;
#   6. riverd stopping stops its child VMs; a killed deployer's VRs in a
#      child VM stop after the grace period (3b).
. "$(dirname "$0")/lib.sh"

secret k
export RIVER_SECRET_FILE="$WORK/k.key"

# 1. A VM that has the type.
"$NODE" --mode=serve >"$WORK/serve.out" 2>"$WORK/serve.err" &
PS=$!
PIDS="$PIDS $PS"
i=0
while ! grep -q '^ready' "$WORK/serve.out" && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
SERVE=$(awk '/^ready/ { print $3 }' "$WORK/serve.out")
"$NODE" --mode=deploy --target "$SERVE" --count 3 >"$WORK/t1" 2>&1
check "deploy by type (typed args) onto a VM that has it" grep -q "deployed 3 ok" "$WORK/t1"
check "... the VRs ran in that VM's process" test "$(grep -c "pid=$PS" "$WORK/t1")" = 3
"$NODE" --mode=byname --target "$SERVE" --count 2 >"$WORK/t2" 2>&1
check "deploy by name with a dynamic packet" grep -q "deployed 2 ok" "$WORK/t2"
check "... an argument of the wrong type is refused" grep -q "wrong argument type: attribute has another type" "$WORK/t2"
check "... with a reason" grep -q "argument 'k' of tests.Echo: wrong type" "$WORK/t2"

# 2. Code push to a bare riverd.
export RIVER_CACHE_DIR="$WORK/cache-b"
RIVER_ALLOC_GRACE_MS=300 daemon b --secret-file "$WORK/k.key" || exit 1
"$NODE" --mode=deploy --target "$ADDR_b" --count 2 --log-level=info >"$WORK/t3" 2>&1
check "deploy to a bare riverd: code pushed, VRs answer" grep -q "deployed 2 ok" "$WORK/t3"
check "... the deployer sent its program" grep -q "sending this program" "$WORK/t3"
check "... riverd verified and cached it" grep -q "SHA-256 verified, cached" "$WORK/b.err"
check "... the cache holds it under its hash" test "$(ls "$RIVER_CACHE_DIR" | grep -c '^[0-9a-f]\{64\}$')" = 1
check "... riverd runs it as a child VM" grep -q "child VM .* runs program" "$WORK/b.err"
CHILD=$(sed -n 's/.*child VM .* (pid \([0-9]*\)) runs program.*/\1/p' "$WORK/b.err" | head -1)
check "... the VRs run in the child VM" test "$(grep -c "pid=$CHILD" "$WORK/t3")" = 2

# 3. Reuse.
"$NODE" --mode=byname --target "$ADDR_b" --count 2 --log-level=info >"$WORK/t4" 2>&1
check "second deploy to the same riverd" grep -q "deployed 2 ok" "$WORK/t4"
check "... reuses the child VM" test "$(grep -c "pid=$CHILD" "$WORK/t4")" = 2
check "... no second transfer" test "$(grep -c "SHA-256 verified, cached" "$WORK/b.err")" = 1 -a "$(grep -c "sending this program" "$WORK/t4")" = 0
check "... riverd says so" grep -q "reusing child VM" "$WORK/b.err"
check "one child VM only" test "$(grep -c "runs program" "$WORK/b.err")" = 1

# 3b. A deployer that dies leaves nothing behind in the child VM.
CADDR=$(sed -n 's/.*child VM .* runs program .* at \(.*\)$/\1/p' "$WORK/b.err" | head -1)
echos() { "$RIVER" ps --vm "$CADDR" --timeout $((SAFETY * 1000)) 2>/dev/null | grep -c "tests.Echo"; }
"$NODE" --mode=deploy --target "$ADDR_b" --count 2 --hold_ms=600000 >"$WORK/t4b" 2>&1 &
PH=$!
PIDS="$PIDS $PH"
i=0
while ! grep -q '^holding' "$WORK/t4b" && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
check "a deployer holding 2 VRs in the child VM" test "$(echos)" = 2
kill -9 $PH; wait $PH 2>/dev/null
PIDS=$(echo "$PIDS" | sed "s/ $PH\b//")
i=0
while [ "$(echos)" != 0 ] && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
check "... killed: its VRs in the child VM stop" test "$(echos)" = 0

# 4. No secret: refused, and the error says why.
export RIVER_CACHE_DIR="$WORK/cache-c"
unset RIVER_SECRET_FILE
daemon c || exit 1
"$NODE" --mode=deploy --target "$ADDR_c" >"$WORK/t5" 2>&1
check "without a secret, deploying a type riverd lacks fails" test $? != 0
check "... the error says code needs an authenticated connection" grep -q "code is sent only over an authenticated connection" "$WORK/t5"
check "... nothing was cached" test ! -d "$RIVER_CACHE_DIR" -o -z "$(ls "$RIVER_CACHE_DIR" 2>/dev/null)"
"$NODE" --mode=deploy --target "$SERVE" >"$WORK/t5b" 2>&1
check "without a secret, nothing reaches a VM that has one" test $? != 0

# 5. Arch mismatch.
export RIVER_SECRET_FILE="$WORK/k.key" RIVER_CACHE_DIR="$WORK/cache-d"
RIVER_ARCH=sparc64 daemon d --secret-file "$WORK/k.key" || exit 1
"$NODE" --mode=deploy --target "$ADDR_d" >"$WORK/t6" 2>&1
check "arch mismatch: refused" test $? != 0
check "... with a clear error" grep -q "architecture mismatch: that VM is sparc64, this program is built for $(uname -m)" "$WORK/t6"
check "... before any code was sent" test "$(grep -c "sending this program" "$WORK/t6")" = 0 -a ! -d "$RIVER_CACHE_DIR"

# 6. riverd stops its child VMs.
check "riverd with a child VM stops cleanly" stop b
i=0
while kill -0 "$CHILD" 2>/dev/null && [ $i -lt $((SAFETY * 10)) ]; do sleep 0.1; i=$((i + 1)); done
check "... and its child VM is gone" test -n "$CHILD" && ! kill -0 "$CHILD" 2>/dev/null
finish
