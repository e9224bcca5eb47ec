#!/bin/bash
# wdt convert failure paths: nothing partial is ever left under the output's
# name or as a temporary file, the input is never touched, and each failure
# is one line naming the file with the right exit status.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
fixture dir smp4
in="$TMP/in.elf"; cp "$dir/dump.elf" "$in"; chmod 0400 "$in"
sum=$(sha256sum <"$in")
sp=(--offline --symbol-path "$dir/symbols")
leftovers() { ls -A "$1" | grep -c '\.wdt-' || true; }

expect_exit 2 "no -o" "$WDT" convert "${sp[@]}" "$in"
expect_exit 2 "--type nonsense" "$WDT" convert --type huge "${sp[@]}" "$in" -o "$TMP/x.dmp"
expect_exit 2 "-O nonsense" "$WDT" convert -O vmdk "${sp[@]}" "$in" -o "$TMP/x.dmp"
expect_exit 2 "--threads 0" "$WDT" convert --threads 0 "${sp[@]}" "$in" -o "$TMP/x.dmp"

# Output == input, directly and through a symlink: refused even with --force.
expect_exit 2 "output is the input" "$WDT" convert --force "${sp[@]}" "$in" -o "$in"
ln -s "$in" "$TMP/link.dmp"
expect_exit 2 "output is a symlink to the input" "$WDT" convert --force "${sp[@]}" "$in" -o "$TMP/link.dmp"
check "... the input is unchanged" test "$(sha256sum <"$in")" = "$sum"

# Existing output: refused without --force, replaced with it.
echo keep >"$TMP/old.dmp"
expect_exit 2 "existing output without --force" "$WDT" convert -q "${sp[@]}" "$in" -o "$TMP/old.dmp"
check "... says to use --force" grep -q -- '--force' <<<"$ERR"
check "... and leaves it alone" test "$(cat "$TMP/old.dmp")" = keep
expect_exit 0 "--force replaces it" "$WDT" convert -q --force "${sp[@]}" "$in" -o "$TMP/old.dmp"
check "... with a DMP" test "$(head -c 8 "$TMP/old.dmp")" = PAGEDU64

# A directory that cannot hold files (even for root).
expect_exit 4 "unwritable output directory" "$WDT" convert -q "${sp[@]}" "$in" -o /proc/wdt-test.dmp
check "... one line naming the output" test "$(wc -l <<<"$ERR")" -eq 1 -a -n "$(grep -F /proc/wdt-test.dmp <<<"$ERR")"

# Disk full, simulated by a file-size limit (8 MiB): EFBIG, nothing left.
mkdir "$TMP/small"
expect_exit 4 "file-size limit hit mid-way" bash -c "ulimit -f 8192; exec \"\$@\"" _ "$WDT" convert -q --no-sparse "${sp[@]}" "$in" -o "$TMP/small/out.dmp"
check "... error names the output" grep -q 'out.dmp' <<<"$ERR"
check "... no output" test ! -e "$TMP/small/out.dmp"
check "... no temporary file" test "$(leftovers "$TMP/small")" -eq 0

# Killed mid-way (SIGINT, SIGTERM): no output, no temporary file.
for sig in INT TERM; do
	rm -rf "$TMP/kill"; mkdir "$TMP/kill"
	# --no-sparse and --threads 1 on the 512 MiB guest take long enough.
	# A background job starts with SIGINT ignored (and SIGTERM may be
	# inherited ignored); restore the defaults a shell user has.
	"${DEFAULT_SIGNALS[@]}" "$WDT" convert -q --no-sparse --threads 1 "${sp[@]}" "$dir/dump.kdump-zlib.flat" -o "$TMP/kill/out.dmp" 2>"$TMP/kill.err" &
	pid=$!
	for _ in $(seq 200); do [ "$(leftovers "$TMP/kill")" -gt 0 ] && break; sleep 0.01; done
	saw=$(leftovers "$TMP/kill")
	kill -$sig $pid; wait $pid; rc=$?
	check "SIG$sig mid-way: temp file existed, process died of the signal (exit $rc)" test "$saw" -gt 0 -a "$rc" -gt 128
	check "... no output" test ! -e "$TMP/kill/out.dmp"
	check "... no temporary file" test "$(leftovers "$TMP/kill")" -eq 0
done

# JSON report: every header value, the dump type, the counts.
expect_exit 0 "--json report" "$WDT" convert --json "${sp[@]}" "$in" -o "$TMP/j.dmp"
check "... names the dump type and header values" python3 - <<PY
import json
d = json.loads('''$OUT''')
h = d["header"]
assert d["dump_type_name"].startswith("full"), d["dump_type_name"]
assert int(h["directory_table_base"], 16) == int(json.load(open("$dir/truth.json"))["dtb"], 16)
assert h["required_dump_space"] == d["file_size"]
assert d["output"].endswith("j.dmp") and d["pages"] > 0
PY
check "input never changed" test "$(sha256sum <"$in")" = "$sum"
done_testing
