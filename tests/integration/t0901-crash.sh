#!/bin/bash
# Crashed guests (issue 13): on QEMU dumps of fake-Windows guests that
# bugchecked on a CPU other than 0 (NMI 0x80, 0xD1 and 0x50 in a driver,
# 0x133 with the driver on the stack), from ELF, kdump and raw, with and
# without the PDB: convert's header holds KiBugcheckData and the crashing
# CPU's saved bugcheck CONTEXT byte for byte, that buffer is unchanged in
# the body, the other CPUs get their live registers (or, --contexts saved,
# what the guest left); info, kdbg and convert --json name the crashing CPU
# and the method; triage names code, parameters, CPU, RIP, caller, blamed
# module, thread, process and a bucket that is the same from every input;
# verify accepts the DMPs and flags a wrong header context or bugcheck.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
set -o pipefail
CHK="python3 $TOP/tests/integration/dmpcheck.py"
CC="python3 $TOP/tests/integration/crashcheck.py"
mkdir -p "$TMP/nosyms"

for name in crash80 crashd1 crash50 crash133; do
	fixture dir "$name"
	truth=$dir/truth.json
	check "$name: the crash is on a CPU other than 0" $CC not-cpu0 "$truth"
	for mode in pdb nopdb; do
		sp=(--offline --symbol-path "$dir/symbols")
		[ $mode = nopdb ] && sp=(--no-pdb)
		for img in dump.elf dump.kdump-zlib.flat dump.kdump-zlib dump.raw; do
			t="$name/$img/$mode"
			out="$TMP/$name.$img.$mode.dmp"
			expect_exit 0 "$t: convert" "$WDT" convert --json -q --no-sync "${sp[@]}" "$dir/$img" -o "$out"
			echo "$OUT" >"$TMP/conv.json"
			case $img in
			dump.kdump*)	# same memory and CPU state as the ELF: the same DMP
				check "$t: identical to the ELF's DMP" cmp -s "$out" "$TMP/$name.dump.elf.$mode.dmp" ;;
			*)	cpus=1; [ "$img" = dump.raw ] && cpus=0
				check "$t: header = truth incl. saved bugcheck CONTEXT, body = guest" \
					$CHK check "$out" "$truth" "$dir/dump.raw" $cpus ;;
			esac
			expect_exit 0 "$t: verify accepts it" "$WDT" verify "$out"
			expect_exit 0 "$t: triage" "$WDT" triage --json "${sp[@]}" "$dir/$img"
			echo "$OUT" >"$TMP/tri.$img.$mode.json"
			check "$t: convert --json (crash, CPU, method, header context) and triage (code, CPU, RIP, caller, blamed, process, times, bucket) = truth" \
				$CC input "$truth" $mode "$TMP/conv.json" "$TMP/tri.$img.$mode.json"
		done
		check "$name/$mode: one bucket from every input" $CC same-bucket "$TMP"/tri.*.$mode.json
		# Raw input (no CPU state) finds the same header context as ELF.
		check "$name/$mode: raw and ELF give the same header context" cmp -s \
			<(head -c $((0x348 + 0x4D0)) "$TMP/$name.dump.raw.$mode.dmp" | tail -c $((0x4D0))) \
			<(head -c $((0x348 + 0x4D0)) "$TMP/$name.dump.elf.$mode.dmp" | tail -c $((0x4D0)))
	done
	cp "$TMP/tri.dump.elf.pdb.json" "$TMP/tri.elf.json"
	rm -f "$TMP"/tri.*.*.json
	d="$TMP/$name.dump.elf.pdb.dmp"
	# The DMP we wrote is itself an input: the same crash, the same DMP.
	expect_exit 0 "$name: triage of the DMP" "$WDT" triage --json --offline --symbol-path "$dir/symbols" "$d"
	echo "$OUT" >"$TMP/tri.json"
	check "$name: ... = truth" $CC triage "$TMP/tri.json" "$truth" pdb
	check "$name: ... the same bucket as the ELF's" $CC same-bucket "$TMP/tri.json" "$TMP/tri.elf.json"
	expect_exit 0 "$name: re-convert the DMP" "$WDT" convert -q --no-sync --offline --symbol-path "$dir/symbols" "$d" -o "$TMP/re.dmp"
	check "$name: ... byte-identical" cmp -s "$d" "$TMP/re.dmp"
	rm -f "$TMP/re.dmp"
	# info and kdbg report the crash too (info never uses a PDB).
	expect_exit 0 "$name: info --json" "$WDT" info --json "$dir/dump.elf"
	echo "$OUT" >"$TMP/info.json"
	check "$name: ... crash with CPU and method" $CC crash "$TMP/info.json" "$truth" nopdb windows.crash
	expect_exit 0 "$name: kdbg --json" "$WDT" kdbg --json --offline --symbol-path "$dir/symbols" "$dir/dump.kdump-zlib"
	echo "$OUT" >"$TMP/kdbg.json"
	check "$name: ... crash with CPU and method" $CC crash "$TMP/kdbg.json" "$truth" pdb crash
	# --contexts saved: every KPRCB context stays as the guest left it.
	expect_exit 0 "$name: convert --contexts saved" "$WDT" convert -q --no-sync --contexts saved --no-pdb "$dir/dump.elf" -o "$TMP/saved.dmp"
	check "$name: ... body = guest except the decoded KDBG" $CHK check "$TMP/saved.dmp" "$truth" "$dir/dump.raw" 1 saved
	rm -f "$TMP/saved.dmp" "$TMP/$name".*.nopdb.dmp "$TMP/$name".dump.[kr]*.dmp
done

# verify: a crashed guest's DMP with CPU 0's live context in the header, or
# another bugcheck code, is an error naming the finding.
fixture dir crashd1
good="$TMP/crashd1.dump.elf.pdb.dmp"
if [ -f "$good" ]; then
	cp "$good" "$TMP/ctx.dmp"
	python3 - "$TMP/ctx.dmp" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(0x348 + 0xF8); rip = f.read(8)
f.seek(0x348 + 0xF8); f.write(bytes([rip[0] ^ 1]) + rip[1:])
PY
	expect_exit 1 "verify: header context not the saved bugcheck context" "$WDT" verify --json "$TMP/ctx.dmp"
	codes=$(json_get /dev/stdin '",".join(f["code"] for f in d["findings"])' <<<"$OUT")
	check "... finding crash-context only ($codes)" test "$codes" = crash-context
	cp "$good" "$TMP/code.dmp"
	printf '\x0a' | dd of="$TMP/code.dmp" bs=1 seek=$((0x38)) conv=notrunc status=none
	expect_exit 1 "verify: header bugcheck code not KiBugcheckData's" "$WDT" verify --json "$TMP/code.dmp"
	codes=$(json_get /dev/stdin '",".join(f["code"] for f in d["findings"])' <<<"$OUT")
	check "... finding bugcheck-code only ($codes)" test "$codes" = bugcheck-code
else
	not_ok "no DMP of crashd1 to break"
fi

# A live guest: triage exits 5 and says so; convert keeps CPU 0's context.
fixture dir basic
expect_exit 5 "live guest: triage exits 5" "$WDT" triage --no-pdb "$dir/dump.elf"
check "... and says it had not crashed" grep -q "Crashed: *no" <<<"$OUT"
expect_exit 0 "live guest: convert" "$WDT" convert --json -q --no-sync --no-pdb "$dir/dump.elf" -o "$TMP/live.dmp"
check "... header context from the CPU state" test "$(json_get /dev/stdin 'd["header_context_from"]' <<<"$OUT")" = "CPU state"

# Bad input: one line, exit 3; usage errors exit 2.
printf 'not a memory image at all\n' >"$TMP/junk"
expect_exit 3 "triage of junk exits 3" "$WDT" triage "$TMP/junk"
check "... one line naming the file" test "$(wc -l <<<"$ERR")" -eq 1 -a -n "$(grep -F "$TMP/junk" <<<"$ERR")"
expect_exit 3 "triage of a missing file exits 3" "$WDT" triage "$TMP/nope"
expect_exit 2 "triage without IMAGE" "$WDT" triage
expect_exit 2 "convert --contexts bogus" "$WDT" convert --contexts bogus "$dir/dump.elf" -o "$TMP/x.dmp"
check "... no output left" test ! -e "$TMP/x.dmp"
done_testing
