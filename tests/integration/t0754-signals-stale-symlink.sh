#!/bin/bash
# Output safety, issue 16: SIGQUIT/SIGUSR1/SIGALRM (any terminating
# signal) remove the temp file; the temp file SIGKILL leaves is removed by
# the next writer into that directory; a dangling symlink as the output is
# refused before any work. tools/writetest drives core/outfile.
. "$(dirname "$0")/lib.sh"
: "${BUILD:?BUILD must point at the build directory}"
WT=${WRITETEST:-$BUILD/tools/writetest}
[ -x "$WT" ] || { not_ok "$WT built (make writetest)"; exit 1; }

head -c 8M /dev/urandom >"$TMP/in.raw"
mkdir "$TMP/o"
clean_dir() { [ -z "$(ls -A "$TMP/o" 2>/dev/null)" ]; }
# wait_temp: until the writer's temp file is there
wait_temp() { for _ in $(seq 200); do [ -n "$(ls -A "$TMP/o")" ] && break; sleep 0.02; done; }

# Every signal at its default action (env --default-signal, coreutils >=
# 8.31): an inherited "ignore" is kept by wdt on purpose. Job control on,
# or a background job starts with SIGINT ignored.
set -m
for sig in QUIT USR1 ALRM; do
	env --default-signal "$WT" dmp "$TMP/in.raw" "$TMP/o/k.dmp" --slow 400 >/dev/null 2>&1 &
	pid=$!
	wait_temp
	check "SIG$sig: temp file exists while writing" test -n "$(ls -A "$TMP/o")"
	kill -s $sig $pid
	wait $pid 2>/dev/null; rc=$?
	check "SIG$sig: killed by the signal (exit $rc)" test $rc -eq $((128 + $(kill -l $sig)))
	check "SIG$sig: no output, no temp file" clean_dir
done

# SIGKILL cannot be caught: the temp file (with the PID in its name) stays
# until the next writer into the directory sees that PID is gone.
env --default-signal "$WT" dmp "$TMP/in.raw" "$TMP/o/k.dmp" --slow 400 >/dev/null 2>&1 &
pid=$!
wait_temp
kill -s KILL $pid
wait $pid 2>/dev/null
left=$(ls -A "$TMP/o")
check "SIGKILL: the temp file stays ($left)" test -n "$left"
check "... its name carries the PID" grep -q "^\.k\.dmp\.wdt-$pid-" <<<"$left"
set +m
expect_exit 0 "next write into the directory" "$WT" raw "$TMP/in.raw" "$TMP/o/other.raw" --no-sync
check "... removed the dead writer's temp file" test "$(ls -A "$TMP/o")" = other.raw
rm -f "$TMP/o/other.raw"

# A dangling symlink as the output: refused at once, even with --force.
ln -s nowhere.dmp "$TMP/o/dangling.dmp"
t0=$(date +%s%N)
# Every read of the input sleeps 5 s (--slow), so a refusal after any work
# takes >= 5 s; one before it takes no read at all (not a timing of wdt).
expect_exit 2 "dangling symlink as output refused" "$WT" dmp "$TMP/in.raw" "$TMP/o/dangling.dmp" --slow 5000 --force
t1=$(date +%s%N)
check "... with the reason" grep -q "dangling.dmp: is a symbolic link to a missing file" "$TMP/err"
check "... before any work ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 4000
check "... nothing written" test "$(ls -A "$TMP/o")" = dangling.dmp
done_testing
