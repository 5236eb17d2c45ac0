#!/usr/bin/env bash
# test_wordcount_vms.sh — examples/wordcount across VMs on loopback: two bare
# riverd with a cluster secret, found through seed peers (multicast off);
# the mappers and reducers spread over this VM and both riverd (which get
# the program), mappers send counts to reducers on other VMs, and the
# result is exactly the single-process one.
. "$(dirname "$0")/lib.sh"
WC="$TOP_BUILDDIR/examples/wordcount/wordcount"
DATA="${TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/examples/wordcount"
[ -d "$DATA" ] || DATA="$(cd "$(dirname "$0")/../examples/wordcount" && pwd)"
unset RIVER_DISCOVERY
export RIVER_MCAST_GROUP=off LC_ALL=C
secret k
for n in w1 w2; do daemon $n --secret-file "$WORK/k.key" || exit 1; done

"$WC" --mappers=3 --top=0 "$DATA/input1.txt" "$DATA/input2.txt" \
    >"$WORK/local" 2>&1
RIVER_SECRET_FILE="$WORK/k.key" "$WC" --mappers=3 --top=0 \
    --discover_ms=2000 --peer "$ADDR_w1" --peer "$ADDR_w2" \
    "$DATA/input1.txt" "$DATA/input2.txt" >"$WORK/multi" 2>"$WORK/multi.err"
check "wordcount across three VMs: exit 0" test $? = 0
check "... spread over this VM and 2 more" grep -q "over this VM and 2 more" "$WORK/multi.err"
check "... the same result as in one process" cmp -s "$WORK/local" "$WORK/multi"
check "... the expected counts" cmp -s "$DATA/expected.txt" "$WORK/multi"
for n in w1 w2; do
    check "$n ran the program as a child VM" grep -q "child VM .* runs program" "$WORK/$n.err"
    check "$n stops cleanly" stop $n
done
if [ "$FAILED" != 0 ]; then show "$WORK/multi"; show "$WORK/multi.err"; show "$WORK/local"; fi
finish
