#!/bin/bash
# Damaged CPU state (tools/mkhostile-cpu.py): QEMU ELF cores and DMPs of the
# fixtures with Rip/Rsp non-canonical or the 'PAGE' fill, bad CS/SS, or a
# 'PAGE'-filled DMP context with one byte changed. Every one that converts
# must give a DMP 'wdt verify' accepts (exit 0), and the rejected state is a
# note in convert's JSON.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
basic=$("$TOP/tools/fixtures.sh" basic | tail -n 1) || { not_ok "fixture basic"; done_testing; exit 1; }
crashed=$("$TOP/tools/fixtures.sh" crashed | tail -n 1) || { not_ok "fixture crashed"; done_testing; exit 1; }
gen=$TOP/tools/mkhostile-cpu.py

# one NAME SRC DAMAGE [note]: damage SRC, convert it, verify the DMP; with
# "note", the damaged state is used (not a crash's saved CONTEXT), so a note
# must say it was not.
one() {
	local name=$1 src=$2 damage=$3 want_note=${4:-} in=$TMP/in out=$TMP/out.dmp
	rm -f "$in" "$out"
	python3 "$gen" "$damage" "$src" "$in" || { not_ok "$name: mkhostile-cpu.py $damage"; return; }
	"$WDT" convert --json --no-pdb "$in" -o "$out" >"$TMP/conv.json" 2>"$TMP/conv.err"
	local rc=$?
	if [ $rc -ne 0 ]; then
		check "$name $damage: convert fails cleanly (exit $rc) without output" test $rc -eq 3 -a ! -e "$out"
		return
	fi
	ok "$name $damage: converts"
	[ -n "$want_note" ] && check "... a note says which CPU state was not used" python3 -c "
import json, sys
n = json.load(open(sys.argv[1]))['notes']
sys.exit(not any('not used' in x or 'not written' in x for x in n))" "$TMP/conv.json"
	expect_exit 0 "... verify accepts the DMP" "$WDT" verify "$out"
	[ -n "$OUT" ] && grep -q ' error ' <<<"$OUT" && echo "# $OUT"
}

# A crashed guest's DMP: the header context is the bugcheck CONTEXT from
# memory, the damaged ContextRecord is not used at all.
for d in rip-fill rip-noncanon rsp-noncanon cs-bad ss-bad all-fill; do
	one basic.elf "$basic/dump.elf" "$d" note
	one crashed.elf "$crashed/dump.elf" "$d" note
	one crashed.dmp "$crashed/dump.win-dmp" "$d"
done
one crashed.dmp "$crashed/dump.win-dmp" ctx-byte
# A live guest's QEMU DMP: its ContextRecord is CPU 0's state (issue 16).
smp4=$("$TOP/tools/fixtures.sh" smp4 | tail -n 1) || { not_ok "fixture smp4"; done_testing; exit 1; }
one smp4.dmp "$smp4/dump.win-dmp" ctx-byte note
one smp4.dmp "$smp4/dump.win-dmp" cs-bad note
done_testing
