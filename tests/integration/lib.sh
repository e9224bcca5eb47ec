# Shared helpers for integration scripts: TAP output and fixture access.
# Source it; $WDT is the binary under test.
# pipefail: a guard such as `x=$(a | b) || not_ok` must see a's failure.
set -u -o pipefail
: "${WDT:?WDT must point at the wdt binary}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FIXTURES=${WDT_FIXTURES:-$TOP/build/fixtures}
_n=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wdt-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
# WDT_TEST_BAIL=1 (tools/run-can-fail.sh): stop at the first failure, so a
# script run against a broken subject ends as soon as it has noticed.
not_ok() {
	_n=$((_n + 1)); echo "not ok $_n - $*"
	if [ "${WDT_TEST_BAIL:-}" = 1 ]; then echo "Bail out! WDT_TEST_BAIL: stopping at the first failure"; exit 1; fi
}
# check DESC CMD...: ok when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# skip_all REASON: exit 77 (skipped) -- only before any check ran. Once a
# result is printed, a missing tool is a failure of the script: its earlier
# checks passed or failed for real and a skip would hide them.
skip_all() {
	if [ "$_n" -gt 0 ]; then
		not_ok "skip requested after $_n checks ran (a script may skip only before its first check): $*"
		done_testing; exit 1
	fi
	echo "1..0 # SKIP $*"; exit 77
}
done_testing() { echo "1..$_n"; }

# fixture VAR NAME...: build (or reuse) the named fixtures with
# tools/fixtures.sh and set VAR to their directories, one a line. When the
# factory fails, the script fails loudly: a "not ok" line with the
# factory's stderr, then exit 1 -- nothing after it could test anything.
# (Not in $(...): an exit there would only leave the subshell.)
fixture() {
	local var=$1 out; shift
	if out=$("$TOP/tools/fixtures.sh" "$@" 2>"$TMP/fixture.err" | tail -n $#) &&
		[ "$(grep -c . <<<"$out")" -eq $# ]; then
		printf -v "$var" '%s' "$out"; return 0
	fi
	not_ok "fixture $* built by tools/fixtures.sh"
	sed 's/^/# /' "$TMP/fixture.err" | tail -n 20
	done_testing; exit 1
}

# "${DEFAULT_SIGNALS[@]}" CMD...: run CMD with every signal (SIGINT,
# SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ among them) at its default action. A
# test that sends a signal or relies on its default action must not inherit
# an "ignore": nohup ignores SIGHUP, a non-interactive shell's background
# jobs ignore SIGINT, Python parents (os.system, restore_signals=False)
# leave SIGPIPE/SIGXFSZ ignored, and a shell cannot trap or reset a signal
# ignored when it started ("trap - INT" does nothing then). An array, not a
# function: "f CMD &" would run f in a subshell, so $! (the process the test
# signals) would be that subshell, not CMD. env --default-signal is
# coreutils >= 8.31 (bookworm: 9.1), without a list: 9.1's
# --default-signal=INT,... left SIGINT ignored in a background job here.
DEFAULT_SIGNALS=(env --default-signal)

# expect_exit CODE DESC CMD...: runs CMD, stores stdout in $OUT, stderr in $ERR.
expect_exit() {
	local want=$1 d=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
	if [ $rc -eq "$want" ]; then ok "$d (exit $rc)"; else
		not_ok "$d (exit $rc, want $want)"; echo "# stderr: $ERR"; fi
}

# need CMD...: skip the whole script when a tool is truly unavailable.
# Call it before the first check (after one, skip_all fails the script).
need() { local t; for t in "$@"; do command -v "$t" >/dev/null 2>&1 || skip_all "$t not installed (run tools/deps.sh)"; done; }

# qemu_dump OUT FORMAT QEMU-ARGS...: start qemu-system-x86_64 stopped (-S)
# with the given extra arguments, write dump-guest-memory in FORMAT to OUT
# over QMP, save HMP 'info registers' to OUT.regs, and quit.
qemu_dump() {
	local out=$1 fmt=$2; shift 2
	local sock="$TMP/qmp.$$.$RANDOM"
	qemu-system-x86_64 -S -display none -nodefaults -accel tcg \
		-qmp "unix:$sock,server=on,wait=off" "$@" >"$TMP/qemu.log" 2>&1 &
	local pid=$!
	python3 "$TOP/tools/qmp.py" --timeout 30 "$sock" \
		human-monitor-command '{"command-line":"info registers"}' \
		>"$out.regs" &&
	python3 "$TOP/tools/qmp.py" --timeout 30 "$sock" \
		dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$out\",\"format\":\"$fmt\"}" \
		quit >/dev/null
	local rc=$?
	wait $pid 2>/dev/null
	[ $rc -eq 0 ] || cat "$TMP/qemu.log" >&2
	return $rc
}

# json_get FILE PYEXPR: evaluate a Python expression over the JSON in FILE
# (bound to d) and print the result.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
