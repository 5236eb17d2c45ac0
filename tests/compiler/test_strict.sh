#!/bin/sh
# test_strict.sh — generated code compiles cleanly: each golden/*.rvr.c
# with -std=c99 and -std=c11 -pedantic -Wall -Wextra -Werror (also -O2),
# and each header from C++ (-std=c++11 -pedantic -Werror).
: "${RIVERC:?RIVERC must name the riverc to test}"
CC=${CC:-cc}
CXX=${CXX:-c++}
cd "${srcdir:-.}" || exit 99
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
run() {
    desc=$1; shift
    if "$@" > "$tmp/log" 2>&1; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $desc"; head -30 "$tmp/log"; fi
}
"$RIVERC" -o "$tmp" golden/*.rvr || exit 1
W="-Wall -Wextra -Werror -pedantic"
for c in "$tmp"/*.rvr.c; do
    b=$(basename "$c")
    # shellcheck disable=SC2086
    run "$b -std=c99" $CC -std=c99 $W $RIVER_CPPFLAGS -I"$tmp" -c "$c" -o "$tmp/o99.o"
    # shellcheck disable=SC2086
    run "$b -std=c11 -O2" $CC -std=c11 -O2 $W $RIVER_CPPFLAGS -I"$tmp" -c "$c" -o "$tmp/o11.o"
    h=${c%.c}.h
    printf '#include "%s"\nint main() { return 0; }\n' "$(basename "$h")" > "$tmp/use.cc"
    # shellcheck disable=SC2086
    run "$(basename "$h") from C++" $CXX -std=c++11 $W $RIVER_CPPFLAGS -I"$tmp" -fsyntax-only "$tmp/use.cc"
done
printf '#include <river/pbsupport.h>\nint main() { return 0; }\n' > "$tmp/pbs.cc"
# shellcheck disable=SC2086
run "river/pbsupport.h from C++" $CXX -std=c++11 $W $RIVER_CPPFLAGS -fsyntax-only "$tmp/pbs.cc"
# Code generated for the previous ABI (1: marshalling helpers static in every
# .rvr.c) must fail the build instead of linking against this libriver.
sed -e 's/^#if RVR_ABI_VERSION != [0-9]*$/#if RVR_ABI_VERSION != 1/' -e 's/for River ABI [0-9]*:/for River ABI 1:/' "$tmp/common.rvr.h" > "$tmp/stale.h"
printf '#include "stale.h"\n' > "$tmp/stale.c"
# shellcheck disable=SC2086
if $CC -std=c11 $RIVER_CPPFLAGS -I"$tmp" -c "$tmp/stale.c" -o "$tmp/stale.o" > "$tmp/log" 2>&1; then
    fail=$((fail + 1)); echo "FAIL: a header generated for ABI 1 compiles"
elif grep -q 'generated for River ABI 1' "$tmp/log"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: stale header: no ABI error"; head -5 "$tmp/log"; fi
echo "subtests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
