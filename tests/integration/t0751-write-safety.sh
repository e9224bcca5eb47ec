#!/bin/bash
# Output safety of the writers (tools/writetest drives core/outfile and the
# DMP writer): refusals, a file-size limit as a stand-in for a full disk,
# and SIGINT/SIGTERM half-way — never a partial output or a stray temp file.
. "$(dirname "$0")/lib.sh"
: "${BUILD:?BUILD must point at the build directory}"
WT=${WRITETEST:-$BUILD/tools/writetest}
# make integration builds writetest: missing, it is a failure, not a skip.
[ -x "$WT" ] || { not_ok "$WT built (make writetest)"; done_testing; exit 1; }

# 8 MiB raw image: random and zero MiBs.
head -c 4M /dev/urandom >"$TMP/r"
{ cat "$TMP/r"; head -c 4M /dev/zero; } >"$TMP/in.raw"
sum() { sha256sum "$1" | cut -d' ' -f1; }
IN_SUM=$(sum "$TMP/in.raw")
# no hidden temp file and no OUT left in the directory
clean_dir() { [ -z "$(ls -A "$TMP/o" 2>/dev/null)" ]; }
mkdir "$TMP/o"

expect_exit 0 "writes a DMP" "$WT" dmp "$TMP/in.raw" "$TMP/o/a.dmp"
check "DMP size = header + 2048 pages" test "$(stat -c %s "$TMP/o/a.dmp")" -eq $((0x2000 + 8 * 1048576))
A_SUM=$(sum "$TMP/o/a.dmp")
expect_exit 2 "existing output refused without --force" "$WT" dmp "$TMP/in.raw" "$TMP/o/a.dmp" --bitmap
check "message says it exists" grep -q "a.dmp: exists$" "$TMP/err"
check "one line on stderr" test "$(wc -l <"$TMP/err")" -eq 1
# The remedy is worded by the command line (cmd/): wdt names --force.
expect_exit 2 "wdt convert onto it" "$WDT" convert -q --format=raw "$TMP/in.raw" -o "$TMP/o/a.dmp"
check "... says to use --force" grep -q "a.dmp: exists; use --force to replace it" "$TMP/err"
check "existing output untouched" test "$(sum "$TMP/o/a.dmp")" = "$A_SUM"
expect_exit 0 "--force replaces it" "$WT" dmp "$TMP/in.raw" "$TMP/o/a.dmp" --bitmap --force
check "now a bitmap dump" grep -q "^type 5 " "$TMP/out"
rm -f "$TMP/o/a.dmp"

expect_exit 2 "output = input refused (even with --force)" "$WT" raw "$TMP/in.raw" "$TMP/in.raw" --force
check "message names the input" grep -q "output would overwrite the input" "$TMP/err"
ln -s in.raw "$TMP/sym.raw"
expect_exit 2 "output = symlink to input refused" "$WT" raw "$TMP/in.raw" "$TMP/sym.raw" --force
ln "$TMP/in.raw" "$TMP/hard.raw"
expect_exit 2 "output = hard link to input refused" "$WT" raw "$TMP/in.raw" "$TMP/hard.raw" --force
check "input unchanged" test "$(sum "$TMP/in.raw")" = "$IN_SUM"

expect_exit 2 "output is a directory" "$WT" dmp "$TMP/in.raw" "$TMP/o" --force
expect_exit 4 "output directory missing" "$WT" dmp "$TMP/in.raw" "$TMP/nodir/x.dmp"
check "message names the output and the cause" grep -q "nodir/x.dmp: cannot create a temporary file beside it: No such file or directory" "$TMP/err"
if [ "$(id -u)" != 0 ]; then
	mkdir "$TMP/ro"; chmod 0555 "$TMP/ro"
	expect_exit 4 "unwritable directory" "$WT" dmp "$TMP/in.raw" "$TMP/ro/x.dmp"
	check "says permission denied" grep -q "Permission denied" "$TMP/err"
else
	ok "unwritable directory # SKIP running as root (permissions do not apply)"
fi

# A full disk, simulated with a 1 MiB file-size limit (no tmpfs without
# root): the write fails with EFBIG, not a SIGXFSZ death.
expect_exit 4 "file-size limit: clean failure" bash -c "ulimit -f 1024; exec \"$WT\" dmp \"$TMP/in.raw\" \"$TMP/o/full.dmp\""
check "message: output, offset, errno text" grep -q "$TMP/o/full.dmp: writing at offset 0x[0-9a-f]*: File too large" "$TMP/err"
check "nothing left behind" clean_dir
expect_exit 4 "file-size limit hit by the final size (holes)" bash -c "ulimit -f 4500; exec \"$WT\" raw \"$TMP/in.raw\" \"$TMP/o/full.raw\" --no-sync"
check "nothing left behind" clean_dir

# Killed half-way: the input is read slowly (each 4 MiB chunk takes
# 400 ms), the test waits for the temp file, then signals the writer. A
# background job starts with SIGINT ignored, and SIGHUP is ignored under
# nohup: DEFAULT_SIGNALS gives the writer the default actions a user has.
for sig in INT TERM HUP; do
	rm -f "$TMP/o/k.dmp"
	"${DEFAULT_SIGNALS[@]}" "$WT" dmp "$TMP/in.raw" "$TMP/o/k.dmp" --slow 400 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do [ -n "$(ls -A "$TMP/o")" ] && break; sleep 0.02; done
	check "SIG$sig: temp file exists while writing" test -n "$(ls -A "$TMP/o")"
	kill -s $sig $pid
	wait $pid 2>/dev/null; rc=$?
	check "SIG$sig: killed by the signal (exit $rc)" test $rc -eq $((128 + $(kill -l $sig)))
	check "SIG$sig: no output, no temp file" clean_dir
done
done_testing
