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
