#!/bin/bash
# Every integration script can fail: run each tests/integration/t*.sh given
# with its subjects broken and require that it notices -- at least one
# "not ok" line, or an exit status other than 0 and 77. A script that
# passes against a broken wdt (or a broken test tool) cannot catch a real
# bug: it is reported by name and this check fails (make check-can-fail).
#
# Broken subjects, twice: "exit1" fails and prints nothing, "silent"
# succeeds and prints nothing. Each replaces, at once, every program a
# script tests: $WDT and the test tools scripts take from the environment
# (MKKDUMP, KDUMPTEST, WRITETEST, SYMTEST, MKBAD, MKGUEST, FIXTURE_CHECK).
# The fixture factory itself stays real: the scripts need its fixtures as
# input. WDT_TEST_BAIL=1 makes lib.sh stop a script at its first "not ok",
# so each run ends as soon as the script has noticed.
#
# Exit 77 (a tool truly not installed) is reported as a skip. A script
# taking longer than CAN_FAIL_TIMEOUT seconds (default 120) fails: with a
# broken subject it should notice early, so make it check sooner.
# CAN_FAIL_JOBS (default 2) runs are made at a time.
set -u
: "${BUILD:?BUILD must point at the build directory}"
LIMIT=${CAN_FAIL_TIMEOUT:-120}
JOBS=${CAN_FAIL_JOBS:-2}
SUBJECTS="WDT MKKDUMP KDUMPTEST WRITETEST SYMTEST MKBAD MKGUEST FIXTURE_CHECK"
MODES="exit1 silent"
stubs=$(mktemp -d "${TMPDIR:-/tmp}/wdt-can-fail.XXXXXX")
trap 'rm -rf "$stubs"' EXIT
printf '#!/bin/sh\n# a broken subject: fails, says nothing\nexit 1\n' >"$stubs/exit1"
printf '#!/bin/sh\n# a broken subject: succeeds, says nothing\nexit 0\n' >"$stubs/silent"
chmod +x "$stubs/exit1" "$stubs/silent"
# The same python3 the scripts would run, minus a version manager's shim
# (pyenv's costs ~0.5 s of CPU per start, most of this check's time).
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$py" ]; then
	mkdir "$stubs/bin" && ln -s "$py" "$stubs/bin/python3" && PATH=$stubs/bin:$PATH
fi

# one SCRIPT MODE: run SCRIPT against the MODE stubs; write the verdict
# (first word: can, cannot or skip) and the report to $stubs/res.NAME.MODE.
one() {
	local t=$1 mode=$2 name v vars=(WDT_TEST_BAIL=1) rc ms nf first t0
	name=$(basename "$t" .sh)
	for v in $SUBJECTS; do vars+=("$v=$stubs/$mode"); done
	local out=$stubs/out.$name.$mode res=$stubs/res.$name.$mode
	t0=$(date +%s%N)
	env "${vars[@]}" timeout -k 10 "$LIMIT" bash "$t" >"$out" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	nf=$(grep -c '^not ok ' "$out")
	first=$(grep -m 1 '^not ok ' "$out" | cut -c1-110)
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "cannot CANNOT-FAIL $name ($mode): still running after ${LIMIT} s with a broken subject: make it notice sooner" >"$res"
	elif [ $rc -eq 77 ]; then
		echo "skip skip $name ($mode): $(grep -m 1 '^1\.\.0' "$out")" >"$res"
	elif [ "$nf" -gt 0 ] || [ $rc -ne 0 ]; then
		echo "can can-fail $name ($mode, $ms ms): exit $rc, ${first:-no not ok line}" >"$res"
	else
		{ echo "cannot CANNOT-FAIL $name ($mode): passed with broken subjects ($(grep -c '^ok ' "$out") ok, exit 0)"
		  tail -n 5 "$out" | sed 's/^/    /'; } >"$res"
	fi
}

start=$(date +%s)
running=0
for t in "$@"; do
	for mode in $MODES; do
		if [ $running -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
		one "$t" "$mode" &
		running=$((running + 1))
	done
done
wait
can=0; cannot=0; skip=0; bad=""
for t in "$@"; do
	for mode in $MODES; do
		res=$stubs/res.$(basename "$t" .sh).$mode
		[ -f "$res" ] || echo "cannot CANNOT-FAIL $(basename "$t" .sh) ($mode): no verdict" >"$res"
		read -r verdict _ <"$res"
		case $verdict in
		can) can=$((can + 1)) ;;
		skip) skip=$((skip + 1)) ;;
		*) cannot=$((cannot + 1)); bad="$bad $(basename "$t" .sh)($mode)" ;;
		esac
		sed '1s/^[a-z]* //' "$res"
	done
done
echo "can-fail: $can runs noticed the broken subjects, $cannot did not, $skip skipped ($(($(date +%s) - start)) s, $JOBS at a time)"
[ $cannot -eq 0 ] || { echo "cannot fail:$bad" >&2; exit 1; }
