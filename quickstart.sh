#!/usr/bin/env bash
# quickstart.sh — set up, build and either run the demo or the test suite.
#
#   ./quickstart.sh demo   install missing build dependencies, build, run the flagship example
#   ./quickstart.sh test   the same set-up, then `make check`; last line: tests: N passed, N failed
set -euo pipefail
cd "$(dirname "$0")"

# iproute2: the multi-host tests build network namespaces with ip(8).
DEPS="build-essential autoconf automake libtool pkg-config uuid-dev libnanopb-dev libcunit1-dev flex bison iproute2"

install_deps() {
  local missing=""
  for p in $DEPS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -z "$missing" ]; then
    echo "quickstart: all build dependencies present"
    return
  fi
  echo "quickstart: installing missing packages:$missing"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

build() {
  install_deps
  if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi
  fi
  if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
    ./configure --quiet ${RIVER_CONFIGURE_FLAGS:-}
  fi
  make -j"$(nproc)"
}

# Sum the per-test counts.  A test program that prints "subtests: N passed,
# N failed" contributes those numbers; any other test contributes one pass or
# one failure from its automake result.  A program that failed without
# reporting a failing subtest (a crash) counts as one more failure.
summarize() {
  local passed=0 failed=0 skipped=0
  for trs in $(find tests -name '*.trs' | sort); do
    local log=${trs%.trs}.log res
    res=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
    local line
    line=$(grep -E '^subtests: [0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n1 || true)
    if [ -n "$line" ]; then
      local p f
      p=$(echo "$line" | sed -E 's/^subtests: ([0-9]+) passed.*/\1/')
      f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
      passed=$((passed + p)); failed=$((failed + f))
      if [ "$res" != PASS ] && [ "$res" != SKIP ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
    else
      case "$res" in
        PASS|XFAIL) passed=$((passed + 1)) ;;
        SKIP) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
      esac
    fi
  done
  if [ "$skipped" -gt 0 ]; then
    echo "tests: $passed passed, $failed failed, $skipped skipped"
  else
    echo "tests: $passed passed, $failed failed"
  fi
  [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

# The demo: three riverd on loopback sharing a fresh cluster secret, and
# examples/pi spreading over them (it finds them through seed peers on
# 127.0.0.1 -- multicast stays off -- allocates them, and sends each its
# own executable, which riverd verifies and runs as a child VM).
DEMO_PIDS=""
DEMO_WORK=""
demo_stop() {
  for p in $DEMO_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $DEMO_PIDS; do wait "$p" 2>/dev/null || true; done
  [ -z "$DEMO_WORK" ] || rm -rf "$DEMO_WORK"
}
demo() {
  local work addrs="" peers=""
  work=$(mktemp -d "${TMPDIR:-/tmp}/river-demo.XXXXXX")
  DEMO_WORK=$work
  trap demo_stop EXIT
  trap 'exit 1' INT TERM
  export RIVER_MCAST_GROUP=off RIVER_BIND=127.0.0.1
  unset RIVER_PEERS RIVER_SECRET_FILE RIVER_DISCOVERY
  ./tools/river keygen "$work/cluster.key"
  for n in 1 2 3; do
    RIVER_CACHE_DIR="$work/cache$n" ./tools/riverd --secret-file "$work/cluster.key" \
      >/dev/null 2>"$work/riverd$n.log" &
    DEMO_PIDS="$DEMO_PIDS $!"
    local i=0
    while ! grep -q 'listening on' "$work/riverd$n.log" 2>/dev/null; do
      if [ $i -ge 100 ]; then echo "quickstart: riverd $n did not start"; cat "$work/riverd$n.log"; exit 1; fi
      sleep 0.1; i=$((i + 1))
    done
    local a
    a=$(sed -n 's/.*listening on //p' "$work/riverd$n.log" | head -1)
    addrs="$addrs $a"
    peers="$peers --peer $a"
  done
  echo "quickstart: three riverd on loopback:$addrs"
  echo "quickstart: RIVER_SECRET_FILE=cluster.key ./examples/pi/pi --workers=2 --per_vm=2 --samples=40000000$peers"
  RIVER_SECRET_FILE="$work/cluster.key" ./examples/pi/pi --workers=2 --per_vm=2 --samples=40000000 \
    --discover_ms=2000 $peers
  echo "quickstart: what the riverd did:"
  grep -h -E "received program|child VM|allocated to|released" "$work"/riverd*.log | sed 's/^/  /' || true
  echo "quickstart: stopping the riverd"
}

case "${1:-}" in
  demo)
    build
    demo
    ;;
  test)
    build
    rc=0
    # -k: a failing directory does not hide the tests of the others.
    make -k check -j"$(nproc)" || rc=$?
    if [ "$rc" != 0 ]; then
      for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find tests -name '*.trs')); do
        echo "---- ${f%.trs}.log"; tail -n 40 "${f%.trs}.log"
      done
    fi
    summarize || exit 1
    exit "$rc"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
