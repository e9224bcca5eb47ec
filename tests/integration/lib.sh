# Shared helpers for integration scripts: TAP output and fixture access.
# Source it; $WDT is the binary under test.
set -u
: "${WDT:?WDT must point at the wdt binary}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FIXTURES=${WDT_FIXTURES:-$TOP/build/fixtures}
_n=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wdt-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
# check DESC CMD...: ok when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
done_testing() { echo "1..$_n"; }

# expect_exit CODE DESC CMD...: runs CMD, stores stdout in $OUT, stderr in $ERR.
expect_exit() {
	local want=$1 d=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
	if [ $rc -eq "$want" ]; then ok "$d (exit $rc)"; else
		not_ok "$d (exit $rc, want $want)"; echo "# stderr: $ERR"; fi
}

# need CMD...: skip the whole script when a tool is truly unavailable.
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
