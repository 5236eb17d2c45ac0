#!/usr/bin/env bash
# test_secret.sh — the cluster secret (docs/protocol.md, "Authentication"):
# riverd --secret-file and RIVER_SECRET_FILE; two VMs with the same secret
# talk; a VM without it, or with another one, is refused, with the reason
# logged on both sides; a VM without a secret refuses one that has one; a
# secret file others may read is refused at start.
. "$(dirname "$0")/lib.sh"

secret s1
secret s2
daemon d1 --secret-file "$WORK/s1.key" || exit 1
daemon d0 || exit 1

ps() { "$RIVER" ps --vm "$1" --timeout $((SAFETY * 1000)) >"$WORK/ps.out" 2>"$WORK/ps.err"; }

RIVER_SECRET_FILE="$WORK/s1.key" ps "$ADDR_d1"
check "same secret: connected" grep -q "river.Daemon" "$WORK/ps.out"

: >"$WORK/d1.err"
ps "$ADDR_d1"
check "no secret: refused" test $? != 0
check "... the caller logs why" grep -q "requires the cluster secret" "$WORK/ps.err"
check "... riverd logs why" grep -q "requires the cluster secret and the connecting VM has none" "$WORK/d1.err"

: >"$WORK/d1.err"
RIVER_SECRET_FILE="$WORK/s2.key" ps "$ADDR_d1"
check "another secret: refused" test $? != 0
check "... the caller logs why" grep -q "proof is wrong" "$WORK/ps.err"
check "... riverd logs why" grep -q "authentication failed: the connecting VM's proof is wrong" "$WORK/d1.err"

RIVER_SECRET_FILE="$WORK/s1.key" ps "$ADDR_d0"
check "a VM without a secret refuses one with a secret" test $? != 0
check "... the caller logs why" grep -q "has no cluster secret" "$WORK/ps.err"
check "... riverd logs why" grep -q "has no cluster secret and cannot authenticate" "$WORK/d0.err"

ps "$ADDR_d0"
check "no secret on either side: connected (as before)" grep -q "river.Daemon" "$WORK/ps.out"

cp "$WORK/s1.key" "$WORK/open.key" && chmod 644 "$WORK/open.key"
"$RIVERD" --bind 127.0.0.1 --secret-file "$WORK/open.key" 2>"$WORK/open.err"
check "a secret file others may read: riverd refuses to start (status 2)" test $? = 2
check "... and says why" grep -q "too open" "$WORK/open.err"

check "riverd with a secret stops cleanly" stop d1
finish
