# disc_lib.sh — helpers shared by the discovery shell tests (sourced).
#
# Every process a test starts is recorded and killed by the EXIT trap, so
# nothing is left running, whatever happens.  Waits have a safety cap only
# (SAFETY seconds) so a broken build cannot hang `make check`; no check
# depends on anything being fast.

BUILDDIR=${BUILDDIR:-$(cd "$(dirname "$0")" && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$BUILDDIR/../..}
NODE="$BUILDDIR/disc_node"
RIVER="$TOP_BUILDDIR/tools/river"
SAFETY=60
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-disc.XXXXXX")
PIDS=""
PASSED=0
FAILED=0

cleanup_procs() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    PIDS=""
}

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() {   # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# start NAME [prefix command...] -- [disc_node args...]: runs a node in the
# background, waits for its "ready UUID ADDRESS" line, sets ADDR_<NAME>.
start() {
    local name=$1; shift
    local pre=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
    shift
    "${pre[@]}" "$NODE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    local i=0
    while ! grep -q '^ready ' "$WORK/$name.out" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || [ $i -ge $((SAFETY * 10)) ]; then
            echo "node $name did not start:"; cat "$WORK/$name.err"
            return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
    eval "ADDR_$name=$(awk '/^ready /{print $3}' "$WORK/$name.out")"
    eval "UUID_$name=$(awk '/^ready /{print $2}' "$WORK/$name.out")"
}

# stop NAME: SIGTERM, and true when it exited 0 (a clean stop).
stop() {
    local pid; eval "pid=\$PID_$1"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    local rc=$?
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
    [ $rc = 0 ]
}

# vms OUT [prefix command...] -- [river vms args...]: writes the JSON to OUT.
vms() {
    local out=$1; shift
    local pre=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
    shift
    "${pre[@]}" "$RIVER" vms --json "$@" >"$out" 2>"$out.err"
}

# Number of VMs in a JSON listing, and whether one with label name=N is in it.
nvms() { grep -c '^{"uuid"' "$1"; }
has() { grep -q "\"name\":\"$2\"" "$1"; }
has_addr() { grep -q "\"address\":\"$2\"" "$1"; }

finish() {
    echo "subtests: $PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
}
