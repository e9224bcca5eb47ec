#!/bin/bash
# wdt convert on fixture guests from every input format: header fields equal
# truth.json, the body equals the guest except the decoded KDBG and the CPU
# CONTEXTs (which hold the CPU state), ELF and kdump inputs give identical
# DMPs, a DMP re-converted is unchanged, bitmap and full dumps expose the same
# pages, a kdump with more runs than fit gives a bitmap dump with all its
# pages, and wdt verify accepts every output. Checked by tests/integration/
# dmpcheck.py, a DMP reader that shares no code with wdt.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
CHK="python3 $TOP/tests/integration/dmpcheck.py"
KDUMPGEN=${MKKDUMP:-${BUILD:-$TOP/build/rel}/tools/mkkdump}
mkdir -p "$TMP/nosyms"

for name in basic smp4 win7 crashed kpti2; do
	fixture dir "$name"
	sp=(--offline --symbol-path "$dir/symbols")
	[ "$name" = win7 ] && sp=(--offline --symbol-path "$TMP/nosyms")   # one guest without PDB
	for img in dump.elf dump.kdump-zlib.flat dump.kdump-zlib dump.raw dump.win-dmp; do
		[ -f "$dir/$img" ] || continue
		out="$TMP/$name.$img.dmp"
		expect_exit 0 "$name/$img: convert" "$WDT" convert -q --no-sync "${sp[@]}" "$dir/$img" -o "$out"
		[ -f "$out" ] || continue
		cpus=1; [ "$img" = dump.raw ] && cpus=0
		flags=-; [ "$img" = dump.win-dmp ] && flags=lost   # QEMU overwrote the saved contexts
		check "$name/$img: header = truth, body = guest except decoded KDBG and CONTEXTs" \
			$CHK check "$out" "$dir/truth.json" "$dir/dump.raw" $cpus $flags
		expect_exit 0 "$name/$img: wdt verify accepts it" "$WDT" verify "$out"
		check "$name/$img: no temporary file left" test -z "$(ls -A "$TMP" | grep '^\.')"
	done
	# ELF and kdump inputs give byte-identical DMPs (same runs, same CPU state).
	check "$name: ELF and flattened kdump give identical DMPs" cmp -s "$TMP/$name.dump.elf.dmp" "$TMP/$name.dump.kdump-zlib.flat.dmp"
	check "$name: ELF and rebuilt kdump give identical DMPs" cmp -s "$TMP/$name.dump.elf.dmp" "$TMP/$name.dump.kdump-zlib.dmp"
	# Re-converting our DMP changes nothing.
	expect_exit 0 "$name: re-convert the DMP" "$WDT" convert -q "${sp[@]}" "$TMP/$name.dump.elf.dmp" -o "$TMP/$name.re.dmp"
	check "$name: ... byte-identical" cmp -s "$TMP/$name.dump.elf.dmp" "$TMP/$name.re.dmp"
	# A bitmap dump of the same guest exposes the same pages.
	expect_exit 0 "$name: convert --type bitmap" "$WDT" convert -q "${sp[@]}" --type bitmap "$dir/dump.elf" -o "$TMP/$name.bmp.dmp"
	check "$name: ... DumpType 5" test "$($CHK header "$TMP/$name.bmp.dmp" | json_get /dev/stdin 'd["dump_type"]')" = 5
	check "$name: ... same pages as the full dump" test "$($CHK pages "$TMP/$name.bmp.dmp")" = "$($CHK pages "$TMP/$name.dump.elf.dmp")"
	check "$name: ... header = truth" $CHK check "$TMP/$name.bmp.dmp" "$dir/truth.json" "$dir/dump.raw" 1
	expect_exit 0 "$name: ... verify accepts it" "$WDT" verify "$TMP/$name.bmp.dmp"
	rm -f "$TMP/$name".*.dmp
done

# More runs than the header holds: a kdump that excludes zero pages.
fixture dir basic
if [ -x "$KDUMPGEN" ]; then
	"$KDUMPGEN" --exclude-zero "$dir/dump.elf" "$TMP/holes.kdump" >/dev/null
	nruns=$("$WDT" info --json "$TMP/holes.kdump" | json_get /dev/stdin 'd["memory"]["run_count"]')
	check "kdump without zero pages has > 42 runs ($nruns)" test "$nruns" -gt 42
	expect_exit 0 "convert it (auto type)" "$WDT" convert -q --offline --symbol-path "$dir/symbols" "$TMP/holes.kdump" -o "$TMP/holes.dmp"
	check "... a bitmap dump" test "$($CHK header "$TMP/holes.dmp" | json_get /dev/stdin 'd["dump_type"]')" = 5
	check "... holding every page of the image, no more" python3 - "$TMP/holes.dmp" <<PY
import json, subprocess, sys
sys.path.insert(0, "$TOP/tests/integration"); import dmpcheck
runs = json.loads(subprocess.run(["$WDT", "info", "--json", "$TMP/holes.kdump"], capture_output=True).stdout)["memory"]["runs"]
want = set()
for r in runs:
    want.update(range(int(r["start"], 16) // 4096, int(r["end"], 16) // 4096 + 1))
got = set()
for pfn, cnt, off in dmpcheck.Dmp(sys.argv[1]).runs(): got.update(range(pfn, pfn + cnt))
sys.exit(0 if got == want else 1)
PY
	expect_exit 3 "--type full refuses > 42 runs" "$WDT" convert -q --offline --type full "$TMP/holes.kdump" -o "$TMP/holes-full.dmp"
	check "... and leaves no file" test ! -e "$TMP/holes-full.dmp"
	expect_exit 0 "verify accepts the bitmap dump" "$WDT" verify "$TMP/holes.dmp"
else
	not_ok "mkkdump not built ($KDUMPGEN)"
fi
done_testing
