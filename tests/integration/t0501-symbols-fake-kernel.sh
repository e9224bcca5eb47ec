#!/bin/bash
# The symbols layer on the fake kernel of the "basic" fixture (clang +
# lld-link ntoskrnl.exe and ntkrnlmp.pdb in a symstore tree): RSDS identity,
# offline lookup in the store, every public symbol RVA and the KPRCB/KPCR
# layout against the fixture's truth.json (written by tools/mkguest).
. "$(dirname "$0")/lib.sh"
SYMTEST=${SYMTEST:-${BUILD:?}/tools/symtest}
need python3
# make integration builds symtest: missing, it is a failure, not a skip.
[ -x "$SYMTEST" ] || { not_ok "symtest built at $SYMTEST"; done_testing; exit 1; }
fixture FIX basic
T=$FIX/truth.json
tj() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T" "$1"; }
EXE=$FIX/$(tj 'd["kernel"]["exe_path"]')
PDB=$FIX/$(tj 'd["kernel"]["pdb_path"]')

check "RSDS of ntoskrnl.exe is truth's" test "$("$SYMTEST" rsds "$EXE")" = \
	"$(tj '"%s %s %d" % (d["kernel"]["pdb_name"], d["kernel"]["pdb_guid"], d["kernel"]["pdb_age"])')"
check "offline lookup finds the PDB in the store" test \
	"$("$SYMTEST" find "srv*$FIX/symbols" "$EXE" offline)" = "$PDB"
# A store without it: clear failure naming the cache path, no network.
expect_exit 1 "offline lookup in an empty store fails" \
	"$SYMTEST" find "srv*$TMP/empty*http://127.0.0.1:9/" "$EXE" offline
check "the failure names URL and cache path" grep -q \
	"http://127.0.0.1:9/ntkrnlmp.pdb/.*$TMP/empty/ntkrnlmp.pdb/" "$TMP/err"

tj '"\n".join("%s %s" % (k, v["rva"]) for k, v in sorted(d["symbols"].items()))' >"$TMP/want"
# shellcheck disable=SC2046
"$SYMTEST" sym "$PDB" $(awk '{print $1}' "$TMP/want") >"$TMP/got" 2>"$TMP/err"
check "all $(wc -l <"$TMP/want") public symbol RVAs equal truth.json" cmp -s "$TMP/want" "$TMP/got"

k() { tj "d['kprcb']['$1']"; }
check "sizeof(_KPRCB)" test "$("$SYMTEST" size "$PDB" _KPRCB)" = "_KPRCB $(k size)"
for m in ProcessorState:processor_state ProcessorState.ContextFrame:context_frame \
	Context:context_pointer KernelDirectoryTableBase:kernel_directory_table_base; do
	want=$(k "${m#*:}")
	[ "$want" = 0 ] && continue
	check "_KPRCB.${m%%:*} at $want" test \
		"$("$SYMTEST" member "$PDB" _KPRCB "${m%%:*}")" = "_KPRCB.${m%%:*} $want"
done
want=$(k kernel_directory_table_base_kpcr)
[ "$want" = 0 ] || check "_KPCR.Prcb.KernelDirectoryTableBase at $want" test \
	"$("$SYMTEST" member "$PDB" _KPCR Prcb.KernelDirectoryTableBase)" = \
	"_KPCR.Prcb.KernelDirectoryTableBase $want"
done_testing
