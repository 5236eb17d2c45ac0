#!/bin/sh
# test_golden.sh — riverc's outputs for golden/*.rvr must equal the
# committed golden/NAME.rvr.h, NAME.rvr.c and NAME.proto byte for byte.
# After an intended change: make -C tests/compiler regen-golden.
: "${RIVERC:?RIVERC must name the riverc to test}"
cd "${srcdir:-.}" || exit 99
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for f in golden/*.rvr; do
    stem=$(basename "$f" .rvr)
    if ! "$RIVERC" --emit-proto -o "$tmp" "$f"; then
        fail=$((fail + 1))
        echo "FAIL: riverc $f"
        continue
    fi
    for ext in rvr.h rvr.c proto; do
        if cmp -s "golden/$stem.$ext" "$tmp/$stem.$ext"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL: golden/$stem.$ext differs (make -C tests/compiler regen-golden if intended)"
            diff -u "golden/$stem.$ext" "$tmp/$stem.$ext" | head -30
        fi
    done
done
echo "subtests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
