#!/bin/bash
# The CLI's PDB download path against a real HTTP server on 127.0.0.1
# (tools/symserver.py) with real libcurl: kdbg downloads the PDB into the
# cache and uses it, the next run needs no request, and SIGINT during a
# stalled download leaves no temporary file in the cache.
. "$(dirname "$0")/lib.sh"
need python3 qemu-system-x86_64 clang lld-link
fixture dir basic
python3 "$TOP/tools/symserver.py" --root "$dir/symbols" --log "$TMP/log" \
	--port-file "$TMP/port" --stall-seconds 20 &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port")
key=$(json_get "$dir/truth.json" 'd["kernel"]["pdb_key"]')

expect_exit 0 "kdbg downloads the PDB" "$WDT" kdbg --json --symbol-path "srv*$TMP/cache*http://127.0.0.1:$port/store" "$dir/dump.elf"
check "... and uses it" test "$(json_get <(echo "$OUT") 'd["kdbg"]["pdb_used"]')" = True
check "... it is in the cache under its key" test -f "$TMP/cache/ntkrnlmp.pdb/$key/ntkrnlmp.pdb"
n=$(wc -l <"$TMP/log")
expect_exit 0 "second run" "$WDT" kdbg --json --symbol-path "srv*$TMP/cache*http://127.0.0.1:$port/store" "$dir/dump.elf"
check "... makes no request" test "$(wc -l <"$TMP/log")" -eq "$n"

# A stalled transfer interrupted by SIGINT (as Ctrl-C would); a background
# job starts with SIGINT ignored, so restore the default first.
"${DEFAULT_SIGNALS[@]}" "$WDT" kdbg --symbol-path "srv*$TMP/c2*http://127.0.0.1:$port/stall" "$dir/dump.elf" >/dev/null 2>&1 &
pid=$!
found=0
for _ in $(seq 200); do
	if find "$TMP/c2" -name '.*wdt-*' 2>/dev/null | grep -q .; then found=1; break; fi
	sleep 0.02
done
kill -INT $pid; wait $pid; rc=$?
check "SIGINT mid-download: a temp file existed and wdt died of the signal (exit $rc)" test $found -eq 1 -a $rc -eq 130
check "... no temporary file is left in the cache" test -z "$(find "$TMP/c2" -name '.*' -type f 2>/dev/null)"
check "... and no PDB either" test -z "$(find "$TMP/c2" -name '*.pdb' -type f 2>/dev/null)"
done_testing
