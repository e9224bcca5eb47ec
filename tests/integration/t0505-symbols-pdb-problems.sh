#!/bin/bash
# When the kernel's PDB cannot be had: one warning line on stderr naming
# the URL and the exact path to save it as (whole, however long), the same
# facts in JSON, the no-PDB methods carry on (exit 0); --require-pdb makes
# it exit 3. Downloads against a real HTTP server on 127.0.0.1
# (tools/symserver.py): a server that accepts and never answers is given
# up on within --symbol-timeout, a trickling one shows progress on a
# terminal (and none elsewhere), a 404 is named with its URL.
. "$(dirname "$0")/lib.sh"
set -o pipefail
need python3 qemu-system-x86_64 clang lld-link
fixture dir basic
python3 "$TOP/tools/symserver.py" --root "$dir/symbols" --log "$TMP/log" \
	--port-file "$TMP/port" --hang-seconds 30 --trickle-rate 40000 &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port")
key=$(json_get "$dir/truth.json" 'd["kernel"]["pdb_key"]')
img=$dir/dump.elf
srv=http://127.0.0.1:$port
rel=ntkrnlmp.pdb/$key/ntkrnlmp.pdb
# warnings: the number of "wdt: warning:" lines in $ERR
warnings() { printf '%s\n' "$ERR" | awk '/^wdt: warning: /{n++} END{print n+0}'; }
has() { grep -qF -- "$1" <<<"$ERR"; }
jq_out() { json_get <(printf '%s\n' "$OUT") "$1"; }

# A server that accepts and never answers.
t0=$(date +%s)
expect_exit 0 "hanging server: kdbg --symbol-timeout 3 goes on without the PDB" \
	"$WDT" kdbg --json --symbol-timeout 3 --symbol-path "srv*$TMP/ch*$srv/hang" "$img"
t1=$(date +%s)
check "... within a few seconds ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
check "... one warning line" test "$(warnings)" -eq 1
check "... naming the URL" has "warning: $img: no PDB for ntkrnlmp.pdb"
check "... the URL it waited for" has "$srv/hang/$rel: timed out"
check "... the limit" has "within the 3 s download time limit ("
check "... and the option that raises it" has " (--symbol-timeout raises it)"
check "... and that the no-PDB methods are used" has "): using the no-PDB methods; to use it, download $srv/hang/$rel and save it as $TMP/ch/$rel, or pass --pdb FILE"
check "... which they are" test "$(jq_out 'd["kdbg"]["method"]')" = known-plaintext
check "... JSON pdb.used is false" test "$(jq_out 'd["pdb"]["used"]')" = False
check "... JSON pdb.url" test "$(jq_out 'd["pdb"]["url"]')" = "$srv/hang/$rel"
check "... JSON pdb.save_as" test "$(jq_out 'd["pdb"]["save_as"]')" = "$TMP/ch/$rel"
check "... JSON pdb.why names the timeout" test "$(jq_out '"timed out" in d["pdb"]["why"]')" = True
check "... no temporary file or empty directory is left" test -z "$(find "$TMP/ch" -mindepth 1 2>/dev/null)"

t0=$(date +%s)
expect_exit 3 "hanging server with --require-pdb: exit 3" \
	"$WDT" kdbg --require-pdb --symbol-timeout 2 --symbol-path "srv*$TMP/ch*$srv/hang" "$img"
t1=$(date +%s)
check "... within a few seconds ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
check "... one error line, no warning" test "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 -a "$(warnings)" -eq 0
check "... naming the URL, the timeout and what to do" has "wdt: $img: no PDB for ntkrnlmp.pdb"
check "... (URL)" has "$srv/hang/$rel: timed out"
check "... (save as)" has "which --require-pdb needs; to use it, download $srv/hang/$rel and save it as $TMP/ch/$rel, or pass --pdb FILE"
check "... nothing on stdout" test -z "$OUT"

# A long cache path: the note is printed whole, on stderr and in JSON.
long=$TMP/$(printf 'c%.0s' $(seq 200))
while [ ${#long} -lt 3000 ]; do long=$long/$(printf 'd%.0s' $(seq 200)); done
expect_exit 0 "offline, a ${#long}-character cache path: kdbg goes on" \
	"$WDT" kdbg --json --offline --symbol-path "srv*$long*$srv/store" "$img"
check "... one warning line" test "$(warnings)" -eq 1
check "... with the whole path to save it as" has "download $srv/store/$rel and save it as $long/$rel, or pass --pdb FILE"
check "... JSON pdb.save_as is the whole path" test "$(jq_out 'd["pdb"]["save_as"]')" = "$long/$rel"
check "... JSON pdb.note has it whole" test "$(jq_out '"save it as '"$long/$rel"', or pass --pdb FILE" in d["pdb"]["note"]')" = True
check "... and kdbg.pdb_note too" test "$(jq_out 'd["kdbg"]["pdb_note"] == d["pdb"]["note"]')" = True
check "... the pdb attempt's detail too" test "$(jq_out '[a["detail"] for a in d["attempts"] if a["step"] == "pdb"][0] == d["pdb"]["note"]')" = True
expect_exit 3 "... with --require-pdb: exit 3" \
	"$WDT" kdbg --json --offline --require-pdb --symbol-path "srv*$long*$srv/store" "$img"
check "... the error line holds the whole path" has "save it as $long/$rel, or pass --pdb FILE"
check "... the JSON error too" test "$(jq_out 'd["error"]["status"] + " " + str(d["error"]["message"].endswith("save it as '"$long/$rel"', or pass --pdb FILE"))')" = "not_found True"

# Every command that looks for the PDB: one warning; --require-pdb: exit 3.
sp=(--offline --symbol-path "srv*$TMP/empty*$srv/store")
for c in find-kernel kdbg convert triage; do
	args=("$img")
	want=0
	[ $c = convert ] && args=(-q --no-sync "$img" -o "$TMP/out.dmp")
	[ $c = triage ] && want=5 # the basic guest has not crashed
	rm -f "$TMP/out.dmp"
	expect_exit $want "$c --offline without the PDB" "$WDT" $c "${sp[@]}" "${args[@]}"
	check "... one warning line" test "$(warnings)" -eq 1
	check "... with the URL and the path" has "download $srv/store/$rel and save it as $TMP/empty/$rel, or pass --pdb FILE"
	rm -f "$TMP/out.dmp"
	expect_exit $want "$c --no-pdb" "$WDT" $c --no-pdb "${args[@]}"
	check "... no warning" test "$(warnings)" -eq 0
	rm -f "$TMP/out.dmp"
	expect_exit 3 "$c --offline --require-pdb without the PDB: exit 3" "$WDT" $c --require-pdb "${sp[@]}" "${args[@]}"
	check "... one error line naming what to do" has "which --require-pdb needs; to use it, download $srv/store/$rel and save it as $TMP/empty/$rel"
	[ $c = convert ] && check "... and no output file" test ! -e "$TMP/out.dmp"
	expect_exit $want "$c --require-pdb with the PDB at hand" "$WDT" $c --require-pdb --offline --symbol-path "$dir/symbols" "${args[@]}"
	check "... no warning" test "$(warnings)" -eq 0
done
expect_exit 0 "convert --json: the pdb object" "$WDT" convert --json -q --no-sync --force "${sp[@]}" "$img" -o "$TMP/out.dmp"
check "... pdb.used false, pdb_used kept" test "$(jq_out 'str(d["pdb"]["used"]) + str(d["pdb_used"])')" = FalseFalse
check "... pdb.save_as" test "$(jq_out 'd["pdb"]["save_as"]')" = "$TMP/empty/$rel"

# An HTTP status: named with the URL.
expect_exit 0 "a 404 from the server" "$WDT" kdbg --symbol-path "srv*$TMP/c4*$srv/none" "$img"
check "... names the URL and the status" has "$srv/none/$rel: HTTP 404"
check "... in one warning line" test "$(warnings)" -eq 1

# A trickling server: progress on a terminal only.
pty_run() {
	python3 -c '
import os, subprocess, sys
m, s = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
out = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(p.wait())' "$@"
}
if pty_run "$WDT" kdbg --symbol-path "srv*$TMP/c5*$srv/trickle" "$img" >"$TMP/tty" 2>&1; then
	ok "trickling server on a terminal: downloaded"
else
	not_ok "trickling server on a terminal: downloaded"
fi
# 100 % of the PDB's own size (done = total), and a rate.
pdbsz=$(stat -c %s "$TMP/c5/$rel" 2>/dev/null || echo 0)
check "... a progress line with size and rate" grep -qE "downloading ntkrnlmp.pdb +100%  ([0-9.]+ KiB)/\\1  [0-9.]+ [kMG]?B/s" "$TMP/tty"
check "... of the PDB's size" grep -qF "$(awk -v b="$pdbsz" 'BEGIN { printf "%.1f KiB/%.1f KiB", b / 1024, b / 1024 }')" "$TMP/tty"
check "... redrawn in place" grep -q $'\r' "$TMP/tty"
check "... and the PDB is used (no warning)" test -f "$TMP/c5/$rel" -a -z "$(grep 'warning' "$TMP/tty")"
expect_exit 0 "trickling server, stderr not a terminal" "$WDT" kdbg --symbol-path "srv*$TMP/c6*$srv/trickle" "$img"
check "... no progress" test -z "$ERR"
t0=$(date +%s)
expect_exit 0 "trickling server, --symbol-timeout 1: gives up" "$WDT" kdbg --symbol-timeout 1 --symbol-path "srv*$TMP/c7*$srv/trickle" "$img"
t1=$(date +%s)
check "... within a few seconds ($((t1 - t0)) s)" test $((t1 - t0)) -le 6
check "... saying so" has "$srv/trickle/$rel: timed out: no complete answer within the 1 s download time limit"

# Option errors.
expect_exit 2 "--require-pdb --no-pdb: usage" "$WDT" kdbg --require-pdb --no-pdb "$img"
expect_exit 2 "--symbol-timeout x: usage" "$WDT" kdbg --symbol-timeout x "$img"
done_testing
