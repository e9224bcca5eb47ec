#!/bin/bash
# Every key each command prints with --json is in docs/json.md's table for
# that command, with the documented type (tests/integration/jsondoc.py);
# the checker itself fails on an undocumented key and on a wrong type.
. "$(dirname "$0")/lib.sh"
need python3
fixture dirs basic crashd1
b=$(sed -n 1p <<<"$dirs") c=$(sed -n 2p <<<"$dirs")
doc() { python3 "$TOP/tests/integration/jsondoc.py" "$TOP/docs/json.md" "$@"; }
bs=(--offline --symbol-path "$b/symbols") cs=(--offline --symbol-path "$c/symbols")
j=0
run() { # run EXPECTED_EXIT CMD ARGS...: JSON into $TMP/CMD.N.json
	local want=$1 cmd=$2; shift 2
	j=$((j + 1))
	"$WDT" "$cmd" --json "$@" >"$TMP/$cmd.$j.json" 2>"$TMP/err"
	local rc=$?
	[ "$rc" = "$want" ] || echo "# $cmd $*: exit $rc, wanted $want: $(head -c 300 "$TMP/err")"
}
run 0 info "$b/dump.elf"; run 0 info "$c/dump.elf"; run 0 info "$b/dump.kdump-zlib"
run 0 info --list-formats; run 3 info "$TMP/nonexistent"; run 2 info --bogus x
run 0 find-kernel "${bs[@]}" "$b/dump.elf"; run 0 find-kernel "${cs[@]}" "$c/dump.elf"
run 0 find-kernel --offline --symbol-path "$TMP" "$b/dump.elf"
run 0 kdbg "${bs[@]}" "$b/dump.elf"; run 0 kdbg "${cs[@]}" "$c/dump.elf"
run 0 kdbg --offline --symbol-path "$TMP" "$b/dump.elf"
run 0 convert -q "${bs[@]}" "$b/dump.elf" -o "$TMP/b.dmp"
run 0 convert -q "${cs[@]}" --type bitmap "$c/dump.elf" -o "$TMP/c.dmp"
run 0 convert -q -O raw "$b/dump.elf" -o "$TMP/b.raw"
run 0 info "$TMP/b.dmp"; run 0 info "$TMP/c.dmp"
run 0 verify "$TMP/b.dmp"; run 0 verify "$TMP/c.dmp"
run 0 triage "${cs[@]}" "$c/dump.elf"; run 5 triage "${bs[@]}" "$b/dump.elf"
run 0 read "$b/dump.elf" 0x100000 32
run 0 symbols "${bs[@]}" "$b/dump.elf"; run 0 symbols --offline --symbol-path "$TMP" "$b/dump.elf"
for cmd in info find-kernel kdbg convert verify triage read symbols; do
	expect_exit 0 "wdt $cmd --json: keys and types as in docs/json.md" doc "$cmd" "$TMP/$cmd".*.json
	[ -n "$OUT" ] && sed 's/^/# /' <<<"$OUT"
done
# The checker can fail: an undocumented key, and a size printed as hex.
python3 - "$TMP/info.1.json" "$TMP/bad1.json" "$TMP/bad2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["memory"]["undocumented_key"] = 1
json.dump(d, open(sys.argv[2], "w"))
d = json.load(open(sys.argv[1]))
d["memory"]["total"] = hex(d["memory"]["total"])
json.dump(d, open(sys.argv[3], "w"))
PY
expect_exit 1 "an undocumented key fails it" doc info "$TMP/bad1.json"
check "  ... named" grep -q "key memory.undocumented_key is not in docs/json.md" <<<"$OUT"
expect_exit 1 "a number printed as hex fails it" doc info "$TMP/bad2.json"
check "  ... named" grep -q "memory.total is \"0x.*documented as number" <<<"$OUT"
done_testing
