#!/bin/sh
# test_args.sh — the params of a generated VR type as command-line options:
# test_fallback's initial VR is typed.Tester (fallback.rvr), so rvr_main
# parses --name=value into typed_Tester_args and --help lists the params
# with their defaults.  The program then checks the values it was given.
# (A param may not be called label or peer: rvr_main takes --label=K=V and
# --peer=HOST:PORT for the VM before the VR sees argv.)
prog=./test_fallback
[ -x "$prog" ] || { echo "no $prog"; exit 99; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { desc=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $desc"; fi; }

"$prog" --help > "$tmp/help" 2>&1; st=$?
check "--help exits 0" [ "$st" -eq 0 ]
for p in rounds greeting verbose ratio offset; do
    check "--help lists --$p" grep -q -- "--$p" "$tmp/help"
done
check "--help shows rounds' default 3" grep -q -- "--rounds.*3" "$tmp/help"
check "--help shows greeting's default" grep -q -- "--greeting.*typed" "$tmp/help"
check "--help shows offset's default -1" grep -q -- "--offset.*-1" "$tmp/help"
check "--help runs no test" sh -c '! grep -q "^subtests:" "$1"' sh "$tmp/help"

for bad in --rounds=abc --rounds=-1 --rounds=4294967296 --ratio=x --nosuch=1; do
    "$prog" "$bad" > "$tmp/out" 2>&1; st=$?
    check "$bad: exit 2" [ "$st" -eq 2 ]
    check "$bad: a message" [ -s "$tmp/out" ]
done

# Defaults (the program checks them), then given values.
"$prog" > "$tmp/out" 2>&1; st=$?
check "defaults: tests pass" [ "$st" -eq 0 ]
TYPED_EXPECT_SET=1 "$prog" --rounds=4000000000 --greeting="héllo world" --verbose \
    --ratio=0.75 --offset=-42 > "$tmp/out" 2>&1; st=$?
check "given values: tests pass" [ "$st" -eq 0 ]
[ "$st" -eq 0 ] || cat "$tmp/out"
echo "subtests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
