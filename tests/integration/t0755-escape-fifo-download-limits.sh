#!/bin/bash
# Issue 16, through the CLI: (1) a PDB name read from the image and a
# symbol server's file.ptr MSG: text never reach the terminal raw (text
# output escaped, no extra line; JSON gives the exact string back); (2) a
# FIFO as the image or as --pdb fails at once; (3) a server trickling
# below the 16 KiB/s low-speed limit is given up on within
# --symbol-timeout, and a timeout is retried at most once; (4) an http
# server redirecting (302) to another http server is followed. Servers:
# tools/symserver.py on 127.0.0.1, logs as the request count.
. "$(dirname "$0")/lib.sh"
set -o pipefail
need python3 qemu-system-x86_64 clang lld-link
fixture dir basic
key=$(json_get "$dir/truth.json" 'd["kernel"]["pdb_key"]')
rel=ntkrnlmp.pdb/$key/ntkrnlmp.pdb
PDB=$dir/symbols/$rel
ELF=$dir/dump.elf
# raw_clean FILE: no raw control byte but tab and newline
raw_clean() { ! LC_ALL=C grep -aqP '[\x00-\x08\x0b-\x1f\x7f]' "$1"; }
nlines() { wc -l <"$1"; }

# ---- 1a. a kernel whose CodeView PDB name holds ESC[2J, BEL, newline ----
cp --sparse=always "$dir/dump.raw" "$TMP/evil.raw"
expect_exit 0 "find-kernel on the original raw image" "$WDT" find-kernel --json --no-pdb "$dir/dump.raw"
base=$(json_get "$TMP/out" 'int(d["kernel"]["base_pa"], 16)' 2>/dev/null)
# The RSDS record of the kernel's debug directory within its first 64 KiB
# (the image is flat: file offset = physical address); the name (after
# "RSDS", GUID, age) overwritten in place with the same length.
if [ -n "$base" ] && python3 - "$TMP/evil.raw" "$base" "$TMP/evil.name" <<'PY'; then
import sys
path, base, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "r+b") as f:
    f.seek(base)
    head = f.read(65536)
    i = head.find(b"RSDS")
    if i < 0:
        sys.exit("no RSDS record")
    name = head[i + 24:head.index(b"\0", i + 24)]
    evil = b"\x1b[2J\x07\n" + name[6:]
    if len(name) <= 6 or len(evil) != len(name):
        sys.exit("PDB name %r too short" % name)
    f.seek(base + i + 24)
    f.write(evil)
open(out, "wb").write(evil)
PY
	ok "the copy's PDB name patched to $(od -An -c "$TMP/evil.name" | tr -s ' ')"
else
	not_ok "the copy's PDB name patched"
fi
# (info looks for no PDB; find-kernel is told not to)
for c in "find-kernel --no-pdb" info; do
	expect_exit 0 "$c, the original (text)" "$WDT" $c "$dir/dump.raw"
	want=$(nlines "$TMP/out")
	expect_exit 0 "$c, the hostile PDB name (text)" "$WDT" $c "$TMP/evil.raw"
	check "... no raw control byte on stdout" raw_clean "$TMP/out"
	check "... on stderr neither" raw_clean "$TMP/err"
	check "... $want lines, as for the original" test "$(nlines "$TMP/out")" -eq "$want"
	check "... the name shown escaped" grep -qF '\x1b[2J\x07\n' "$TMP/out"
	expect_exit 0 "$c --json, the hostile PDB name" "$WDT" $c --json "$TMP/evil.raw"
	check "... parses and holds the exact name (ESC, BEL, newline decoded)" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
evil = open(sys.argv[2], "rb").read().decode()
def strings(v):
    if isinstance(v, dict):
        for x in v.values(): yield from strings(x)
    elif isinstance(v, list):
        for x in v: yield from strings(x)
    elif isinstance(v, str):
        yield v
sys.exit(0 if evil in strings(d) else 1)' "$TMP/out" "$TMP/evil.name"
done
expect_exit 0 "find-kernel --json: kernel.pdb_name is the name" "$WDT" find-kernel --json --no-pdb "$TMP/evil.raw"
check "... exactly" python3 -c 'import json, sys
sys.exit(json.load(open(sys.argv[1]))["kernel"]["pdb_name"] != open(sys.argv[2], "rb").read().decode())' "$TMP/out" "$TMP/evil.name"
# Looking the PDB up: refused, one warning line, escaped.
expect_exit 0 "find-kernel --offline, the hostile PDB name" "$WDT" find-kernel --offline --symbol-path "srv*$TMP/nc" "$TMP/evil.raw"
check "... one warning line" test "$(nlines "$TMP/err")" -eq 1 -a "$(grep -c '^wdt: warning: ' "$TMP/err")" -eq 1
check "... no raw control byte on stderr or stdout" raw_clean "$TMP/err"
check "... (stdout)" raw_clean "$TMP/out"
rm -f "$TMP/evil.raw"

# ---- servers: B serves the PDB; A trickles it, redirects to B, holds a
# file.ptr with a hostile MSG: ----
mkdir -p "$TMP/b/good/${rel%/*}" "$TMP/a/good/${rel%/*}" "$TMP/a/ptr/${rel%/*}"
cp "$PDB" "$TMP/b/good/$rel"
cp "$PDB" "$TMP/a/good/$rel"
printf 'MSG: \033]0;pwned\007\nwdt: forged\n' >"$TMP/a/ptr/${rel%/*}/file.ptr"
spids=""
trap 'kill $spids 2>/dev/null; rm -rf "$TMP"' EXIT
serve() { # serve NAME ARGS...: start a server logging to $TMP/NAME.log
	local n=$1; shift
	python3 "$TOP/tools/symserver.py" --root "$TMP/$n" --log "$TMP/$n.log" \
		--port-file "$TMP/$n.port" "$@" &
	spids="$spids $!"
	for _ in $(seq 100); do [ -s "$TMP/$n.port" ] && break; sleep 0.05; done
	: >"$TMP/$n.log"
}
serve b
B=http://127.0.0.1:$(cat "$TMP/b.port")
# 4000 B/s: below the 16 KiB/s limit (above the 64 B/s one before it);
# the PDB (about 100 KB) would take longer than the limit's 15 s window
serve a --trickle-rate 4000 --redirect-to "$B/store/good"
A=http://127.0.0.1:$(cat "$TMP/a.port")

# ---- 1b. file.ptr MSG: with OSC, BEL and a forged line ----
expect_exit 0 "a server's file.ptr MSG: with ESC, BEL and a newline" "$WDT" kdbg --symbol-path "srv*$TMP/pc*$A/store/ptr" "$ELF"
check "... the server was asked for the file.ptr" grep -qF "GET /store/ptr/${rel%/*}/file.ptr" "$TMP/a.log"
check "... one line on stderr" test "$(nlines "$TMP/err")" -eq 1
check "... a warning holding the message" grep -q '^wdt: warning: .*pwned.*wdt: forged' "$TMP/err"
check "... no raw control byte" raw_clean "$TMP/err"
expect_exit 0 "... --json" "$WDT" kdbg --json --symbol-path "srv*$TMP/pc*$A/store/ptr" "$ELF"
check "... pdb.note holds the message exactly" test "$(json_get "$TMP/out" '"\033]0;pwned\007\nwdt: forged" in d["pdb"]["note"]')" = True

# ---- 2. FIFOs fail at once ----
mkfifo "$TMP/fifo"
expect_exit 3 "info FIFO: fails at once" timeout 10 "$WDT" info "$TMP/fifo"
check "... one line naming the file" bash -c '[ "$(wc -l <"$1")" -eq 1 ] && grep -qF "wdt: $2: not a regular file" "$1"' _ "$TMP/err" "$TMP/fifo"
expect_exit 3 "find-kernel --pdb FIFO: fails at once" timeout 10 "$WDT" find-kernel --pdb "$TMP/fifo" "$ELF"
check "... one line naming the file" bash -c '[ "$(wc -l <"$1")" -eq 1 ] && grep -qF "$2: not a regular file" "$1"' _ "$TMP/err" "$TMP/fifo"
check "... nothing on stdout" test ! -s "$TMP/out"

# ---- 3. a trickle below 16 KiB/s ----
t0=$(date +%s%N)
expect_exit 0 "trickle, --symbol-timeout 3: goes on without the PDB" "$WDT" kdbg --symbol-timeout 3 --symbol-path "srv*$TMP/t1*$A/trickle/good" "$ELF"
ms=$((($(date +%s%N) - t0) / 1000000))
check "... gave up within the bound ($ms ms, limit 3 s + slack)" test $ms -ge 2500 -a $ms -le 8000
check "... saying it timed out" grep -qF "$A/trickle/good/$rel: timed out: no complete answer within the 3 s download time limit" "$TMP/err"
n=$(grep -c "^GET /trickle/good/$rel\$" "$TMP/a.log")
check "... $n request(s): at most 2" test "$n" -ge 1 -a "$n" -le 2
check "... no PDB in the cache" test ! -e "$TMP/t1/$rel"
check "the PDB ($(stat -c %s "$PDB") bytes) takes the trickle over 15 s" test "$(stat -c %s "$PDB")" -gt 64000
# The default low-speed limit (16 KiB/s for 15 s) ends each attempt long
# before a 100 s limit; a timed-out attempt is tried once more, no more.
: >"$TMP/a.log"
t0=$(date +%s%N)
expect_exit 0 "trickle, --symbol-timeout 100: the low-speed limit gives up" "$WDT" kdbg --symbol-timeout 100 --symbol-path "srv*$TMP/t2*$A/trickle/good" "$ELF"
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(grep -c "^GET /trickle/good/$rel\$" "$TMP/a.log")
check "... 2 attempts of about 15 s ($ms ms, at least 28 s, well under 100 s)" test $ms -ge 28000 -a $ms -le 60000
check "... $n requests: at most 2, and no other file asked for" test "$n" -ge 1 -a "$n" -le 2 -a "$(nlines "$TMP/a.log")" -eq "$n"
check "... the warning says why" grep -qF "$A/trickle/good/$rel: timed out (" "$TMP/err"
check "... no PDB in the cache" test ! -e "$TMP/t2/$rel"

# ---- 4. an http redirect to another http server on 127.0.0.1 ----
: >"$TMP/a.log"
: >"$TMP/b.log"
expect_exit 0 "302 from one http server to another: kdbg" "$WDT" kdbg --json --symbol-path "srv*$TMP/rc*$A/redirect-to" "$ELF"
check "... the PDB arrived and is used" test "$(json_get "$TMP/out" 'd["kdbg"]["pdb_used"]')" = True
check "... byte-identical in the cache" cmp -s "$PDB" "$TMP/rc/$rel"
check "... A redirected" test "$(cat "$TMP/a.log")" = "GET /redirect-to/$rel"
check "... B served it" test "$(cat "$TMP/b.log")" = "GET /store/good/$rel"
done_testing
