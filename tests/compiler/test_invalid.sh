#!/bin/sh
# test_invalid.sh — the invalid-input corpus: riverc --check on each
# invalid/NN-name.rvr must exit with status 1 and print exactly the
# diagnostics in invalid/NN-name.err.  A first line "// args: ..." adds
# riverc options.  With REGEN=1 the .err files are rewritten instead.
: "${RIVERC:?RIVERC must name the riverc to test}"
cd "${srcdir:-.}" || exit 99
pass=0 fail=0
for f in invalid/*.rvr; do
    exp=${f%.rvr}.err
    args=$(sed -n '1s|^// args: ||p' "$f")
    # shellcheck disable=SC2086
    out=$("$RIVERC" --check $args "$f" 2>&1)
    st=$?
    if [ "${REGEN:-}" = 1 ]; then
        printf '%s\n' "$out" > "$exp"
        continue
    fi
    if [ "$st" -eq 1 ] && [ -f "$exp" ] && [ "$out" = "$(cat "$exp")" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $f (exit status $st)"
        printf '%s\n' "$out" | diff -u "$exp" - | head -40
    fi
done
echo "subtests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
