#!/bin/sh
# test_pi.sh — examples/pi computes π.
#
# Runs the example as a user would and checks what it prints: the estimate
# within a loose bound of π (correctness, not speed: no timing is checked),
# the same estimate whatever the number of workers, one share line per
# worker, the host share, and the refusal of bad arguments.  Everything
# stays on loopback: discovery off, the VM bound to 127.0.0.1.
set -u

top=${TOP_BUILDDIR:-../..}
pi=$top/examples/pi/pi
RIVER_DISCOVERY=off
RIVER_BIND=127.0.0.1
RIVER_MCAST_GROUP=off    # the master's discovery: no multicast, no seeds: this VM only
export RIVER_DISCOVERY RIVER_BIND RIVER_MCAST_GROUP

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'; }

if [ ! -x "$pi" ]; then
    echo "test_pi: $pi is not built"
    exit 99
fi

# The number after "pi = " on the first such line, or nothing.
estimate() { printf '%s\n' "$1" | sed -n 's/^pi = \([0-9.][0-9.]*\) .*/\1/p' | head -n 1; }

# within VALUE BOUND: |VALUE - pi| < BOUND
within() { awk -v v="$1" -v b="$2" 'BEGIN { d = v - 3.141592653589793; if (d < 0) d = -d; exit !(v != "" && d < b) }'; }

# 1. Random points: 200,000 samples put the estimate within ~0.004 (one
#    standard deviation); 0.05 is a loose bound.
out=$("$pi" --workers=3 --samples=200000 2>&1)
st=$?
v=$(estimate "$out")
if [ $st -eq 0 ] && [ -n "$v" ] && within "$v" 0.05; then ok "random points: pi = $v"; else bad "random points (status $st)" "$out"; fi

# 2. Halton points converge much faster.
out=$("$pi" --workers=4 --samples=100000 --exact 2>&1)
st=$?
v=$(estimate "$out")
if [ $st -eq 0 ] && [ -n "$v" ] && within "$v" 0.001; then ok "Halton points: pi = $v"; else bad "Halton points (status $st)" "$out"; fi

# 3. The estimate does not depend on how the work was split.
a=$(estimate "$("$pi" --workers=1 --samples=50000 2>&1)")
b=$(estimate "$("$pi" --workers=6 --samples=50000 2>&1)")
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same estimate with 1 and 6 workers ($a)"; else bad "1 vs 6 workers: '$a' vs '$b'"; fi

# 4. One line per worker, and the open-ended host attribute reached the
#    master: a host line holding every sample.
out=$("$pi" --workers=5 --samples=100000 2>&1)
nw=$(printf '%s\n' "$out" | grep -c '^  worker ')
nh=$(printf '%s\n' "$out" | grep -c '^  host .* 100000 samples 100.0%')
if [ "$nw" -eq 5 ] && [ "$nh" -eq 1 ]; then ok "per-worker and per-host shares"; else bad "shares: $nw worker lines, $nh full host lines" "$out"; fi

# 5. Fewer samples than workers: the idle workers are told to stop.
out=$("$pi" --workers=6 --samples=2 2>&1)
st=$?
if [ $st -eq 0 ] && printf '%s\n' "$out" | grep -q '^pi = .*(2 samples'; then ok "fewer samples than workers"; else bad "fewer samples than workers (status $st)" "$out"; fi

# 6. Bad arguments are refused with status 2.
"$pi" --workers=0 >/dev/null 2>&1
st1=$?
"$pi" --no-such-option >/dev/null 2>&1
st2=$?
if [ $st1 -eq 2 ] && [ $st2 -eq 2 ]; then ok "bad arguments refused"; else bad "bad arguments: status $st1, $st2"; fi

echo "subtests: $pass passed, $fail failed"
[ $fail -eq 0 ]
