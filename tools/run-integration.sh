#!/bin/bash
# Run numbered integration scripts (TAP producers). Exit 77 = skipped (the
# script must print why) -- but only before any result: exit 77 after an
# "ok"/"not ok" line is a FAIL, since a skip would hide checks that ran.
# Prints each script's TAP and a closing summary.
set -u
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
	name=$(basename "$t" .sh)
	echo "# $name"
	out=$(bash "$t" 2>&1); rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	np=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
	nf=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
	if [ $rc -eq 77 ] && [ $((np + nf)) -gt 0 ]; then
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit 77, a skip after $np ok, $nf not ok: skipping is only allowed before the first check)"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "skip $name"
	elif [ $rc -ne 0 ] || [ "$nf" -ne 0 ] || [ "$np" -eq 0 ]; then
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit $rc, $np ok, $nf not ok)"
	else
		pass=$((pass + 1)); echo "PASS $name ($np checks)"
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failing:$failed" >&2; exit 1; }
