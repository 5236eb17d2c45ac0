# lib.sh — shared by the deploy tests: start and stop riverd and programs on
# loopback, with traps; checks counted as in the other shell tests.
# Waits have a safety cap only (never a timing bound).
set -u
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$(pwd)}
RIVER="$TOP_BUILDDIR/tools/river"
RIVERD="$TOP_BUILDDIR/tools/riverd"
NODE="$BUILDDIR/deploy_node"
SAFETY=60
WORK=$(mktemp -d "${TMPDIR:-/tmp}/river-deploy.XXXXXX")
export RIVER_DISCOVERY=off RIVER_BIND=127.0.0.1   # loopback only, no multicast
export RIVER_CACHE_DIR="$WORK/cache-default"
PIDS=""
PASSED=0
FAILED=0
cleanup() {
    for p in $PIDS; do kill -TERM $p 2>/dev/null; done
    for p in $PIDS; do wait $p 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() { echo "subtests: $PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; }
show() { echo "--- $1:"; sed 's/^/    /' "$1"; }

# daemon NAME [riverd args]: starts riverd on 127.0.0.1 (log $WORK/NAME.err,
# code cache $WORK/cache-NAME), sets ADDR_NAME, VM_NAME and PID_NAME.
daemon() {
    local name=$1; shift
    RIVER_CACHE_DIR="$WORK/cache-$name" "$RIVERD" --bind 127.0.0.1 --log-level info "$@" 2>"$WORK/$name.err" &
    local pid=$! i=0
    PIDS="$PIDS $pid"
    eval "PID_$name=$pid"
    while ! grep -q 'listening on' "$WORK/$name.err" 2>/dev/null; do
        if ! kill -0 $pid 2>/dev/null || [ $i -ge $((SAFETY * 10)) ]; then
            echo "riverd $name did not start:"; cat "$WORK/$name.err"; return 1
        fi
        sleep 0.1; i=$((i + 1))
    done
    eval "ADDR_$name=$(sed -n 's/.*listening on //p' "$WORK/$name.err" | head -1)"
    eval "VM_$name=$(sed -n 's/^riverd: VM \([^ ]*\) listening.*/\1/p' "$WORK/$name.err" | head -1)"
}

# stop NAME: SIGTERM and wait; true if it exited 0.
stop() {
    local pid
    eval "pid=\$PID_$1"
    kill -TERM $pid 2>/dev/null
    wait $pid
    local st=$?
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
    return $st
}

# secret NAME: a fresh secret in $WORK/NAME.key
secret() { "$RIVER" keygen "$WORK/$1.key" >/dev/null; }
