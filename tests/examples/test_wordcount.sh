#!/bin/sh
# test_wordcount.sh — examples/wordcount counts words right.
#
# 1. A small known input (tests/examples/wordcount/input*.txt, checked by
#    hand: mixed case, UTF-8 words, digits, punctuation, a file ending
#    without a newline) must give exactly expected.txt, for several numbers
#    of mappers and reducers and chunk sizes down to one byte (words cut
#    across chunks must be stitched back).
# 2. A larger input (the documentation and sources of the examples) must
#    agree with the same count done by tr | sort | uniq -c.
# 3. --top limits the list; standard input works; an unreadable file gives
#    status 1.
# Everything stays on loopback: discovery off, the VM bound to 127.0.0.1.
set -u

top=${TOP_BUILDDIR:-../..}
src=${TEST_SRCDIR:-$(dirname "$0")}
wc=$top/examples/wordcount/wordcount
data=$src/wordcount
RIVER_DISCOVERY=off
RIVER_BIND=127.0.0.1
LC_ALL=C
export RIVER_DISCOVERY RIVER_BIND LC_ALL

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }

if [ ! -x "$wc" ]; then
    echo "test_wordcount: $wc is not built"
    exit 99
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_wordcount.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# The word lines only (the summary line names the chunk count, which
# depends on --chunk).
words() { grep -v '^wordcount:' "$1"; }

words "$data/expected.txt" > "$tmp/expected"
for conf in "--mappers=3" "--mappers=1 --reducers=1" "--mappers=5 --reducers=4 --chunk=1" \
            "--mappers=2 --reducers=3 --chunk=7"; do
    # shellcheck disable=SC2086
    if "$wc" $conf --top=0 "$data/input1.txt" "$data/input2.txt" > "$tmp/out" 2> "$tmp/err" &&
       words "$tmp/out" | cmp -s - "$tmp/expected" &&
       grep -q '^wordcount: 2 files, 34 words, 22 distinct' "$tmp/out"; then
        ok "known input, $conf"
    else
        bad "known input, $conf"
        words "$tmp/out" | diff "$tmp/expected" - | head -n 20
        cat "$tmp/err"
    fi
done
if "$wc" --mappers=3 --top=0 "$data/input1.txt" "$data/input2.txt" | cmp -s - "$data/expected.txt"; then
    ok "known input, summary line"
else
    bad "known input, summary line"
fi

# A larger input against the shell's count.  Files are counted one by one,
# and a file may end without a newline, so the reference counts each
# file with a newline appended.
set -- "$src"/../../docs/*.md "$src"/../../examples/*/*.c "$src"/../../examples/*/README.md
for f in "$@"; do cat "$f"; echo; done |
    tr -cs 'A-Za-z0-9\200-\377' '\n' | tr 'A-Z' 'a-z' | grep . | sort | uniq -c |
    sort -k1,1nr -k2,2 > "$tmp/ref"
if "$wc" --mappers=4 --reducers=3 --chunk=1000 --top=0 "$@" > "$tmp/out" 2> "$tmp/err" &&
   words "$tmp/out" | cmp -s - "$tmp/ref"; then
    ok "larger input agrees with tr | sort | uniq -c ($(wc -l < "$tmp/ref") words)"
else
    bad "larger input"
    words "$tmp/out" | diff "$tmp/ref" - | head -n 20
    cat "$tmp/err"
fi

# --top, standard input, errors.
n=$("$wc" --top=3 "$@" | grep -vc '^wordcount:')
if [ "$n" -eq 3 ]; then ok "--top=3 prints 3 words"; else bad "--top=3 printed $n"; fi
out=$(printf 'b a B\n' | "$wc" --mappers=2)
if [ "$(printf '%s\n' "$out" | words /dev/stdin | tr -s ' ')" = "$(printf ' 2 b\n 1 a')" ]; then
    ok "standard input"
else
    bad "standard input: $out"
fi
"$wc" "$data/input1.txt" "$tmp/no-such-file" > "$tmp/out" 2> "$tmp/err"
st=$?
if [ $st -eq 1 ] && grep -q 'no-such-file' "$tmp/err" && grep -q '^wordcount: 1 files' "$tmp/out"; then
    ok "unreadable file: counted the rest, status 1"
else
    bad "unreadable file: status $st"
fi

echo "subtests: $pass passed, $fail failed"
[ $fail -eq 0 ]
