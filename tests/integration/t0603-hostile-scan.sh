#!/bin/bash
# Hostile page tables (tools/mkhostile-scan.py): the whole kernel scan range
# mapped onto one 2 MiB frame of MZ pages (8,388,608 virtual pages), raw and
# gzip-compressed, and a variant with more distinct MZ frames than the scan's
# cap. find-kernel, kdbg --no-pdb and convert each fail with exit 3 within
# the `timeout 20` guard (a scan bounded by the address space took 120 s raw,
# over 600 s gzipped); the measured times are printed as TAP comments.
. "$(dirname "$0")/lib.sh"
need python3 gzip timeout
gen=$TOP/tools/mkhostile-scan.py
python3 "$gen" "$TMP/one.raw" || { not_ok "mkhostile-scan.py one.raw"; done_testing; exit 1; }
gzip -c "$TMP/one.raw" >"$TMP/one.raw.gz"
python3 "$gen" --distinct --size 32 "$TMP/many.raw" || { not_ok "mkhostile-scan.py --distinct"; done_testing; exit 1; }

# timed CODE DESC CMD...: expect_exit under `timeout 20`, time as a comment.
timed() {
	local want=$1 d=$2; shift 2
	local t0 t1
	t0=$(date +%s.%N)
	expect_exit "$want" "$d" timeout 20 "$@"
	t1=$(date +%s.%N)
	echo "# $d: $(python3 -c "print('%.2f s' % ($t1 - $t0))")"
}

for f in one.raw one.raw.gz; do
	timed 3 "$f: find-kernel" "$WDT" find-kernel "$TMP/$f"
	check "... no kernel image found" grep -q 'no Windows kernel image found' <<<"$ERR"
	check "... each of the 512 MZ frames looked at once" grep -q 'scan (512 mapped pages in 0xfffff80000000000-0xfffff807ffffffff, 512 with MZ' <<<"$ERR"
	check "... one line" test "$(wc -l <<<"$ERR")" -eq 1
	timed 3 "$f: kdbg --no-pdb" "$WDT" kdbg --no-pdb "$TMP/$f"
	check "... no kernel image found" grep -q 'no Windows kernel image found' <<<"$ERR"
	timed 3 "$f: convert --no-pdb" "$WDT" convert --no-pdb "$TMP/$f" -o "$TMP/$f.dmp"
	check "... no output left behind" test ! -e "$TMP/$f.dmp"
done

timed 3 "more MZ frames than the cap: find-kernel" "$WDT" find-kernel "$TMP/many.raw"
check "... the error names the cap" grep -q 'the scan stopped at its cap of 4096 MZ pages' <<<"$ERR"
check "... and --kernel-base" grep -q -- 'pass --kernel-base$' <<<"$ERR"
timed 3 "... find-kernel --json" "$WDT" find-kernel --json "$TMP/many.raw"
check "... JSON error names the cap and --kernel-base" python3 -c "
import json, sys
m = json.loads(sys.argv[1])['error']['message']
sys.exit(not ('cap of 4096' in m and '--kernel-base' in m))" "$OUT"
timed 3 "... kdbg --no-pdb" "$WDT" kdbg --no-pdb "$TMP/many.raw"
check "... names the cap" grep -q 'cap of 4096 MZ pages' <<<"$ERR"
timed 3 "... convert --no-pdb" "$WDT" convert --no-pdb "$TMP/many.raw" -o "$TMP/many.dmp"
check "... names the cap" grep -q 'cap of 4096 MZ pages' <<<"$ERR"
done_testing
