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

case "${1:-}" in
  demo)
    build
    echo "quickstart: running examples/hello (the initial VR spawns 4 workers)"
    ./examples/hello/hello --workers=4
    ;;
  test)
    build
    rc=0
    make check -j"$(nproc)" || rc=$?
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
