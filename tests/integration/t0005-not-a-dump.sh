#!/bin/bash
# Files often taken for memory dumps (Windows minidumps, ELF cores and kdumps of other architectures): one line saying what the file is and what to do, exit 3,
# from info and convert alike; nothing written. Samples are made here: the
# magic (and a few header bytes) is all detection looks at.
. "$(dirname "$0")/lib.sh"
need python3

mk() { # mk FILE PYTHON-BYTES-EXPR: write the bytes padded to 8 KiB
	python3 -c 'import sys; b = eval(sys.argv[2]); open(sys.argv[1], "wb").write(b + bytes(8192 - len(b)))' "$1" "$2"
}
mk "$TMP/app.dmp" "b'MDMP' + (0xa793).to_bytes(4, 'little')"
mk "$TMP/arm.elf" "b'\x7fELF\x02\x01\x01' + bytes(9) + (4).to_bytes(2, 'little') + (183).to_bytes(2, 'little')"
mk "$TMP/arm.kdump" "b'KDUMP   ' + (6).to_bytes(4, 'little') + bytes(0x110 - 12) + b'aarch64'"

hint() { # hint FILE NEEDLE...
	local f=$1; shift
	for cmd in info convert; do
		local extra=()
		[ $cmd = convert ] && extra=(-o "$TMP/out.dmp")
		expect_exit 3 "$cmd $(basename "$f")" "$WDT" $cmd "$f" "${extra[@]}"
		check "  ... one line naming the file" bash -c \
			'[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && grep -qF -- "wdt: $2: " <<<"$1"' _ "$ERR" "$f"
		for n in "$@"; do
			check "  ... says: $n" grep -qF -- "$n" <<<"$ERR"
		done
		check "  ... nothing on stdout" test -z "$OUT"
		check "  ... no output file" test ! -e "$TMP/out.dmp"
	done
}
TAKE="take one with 'virsh dump --memory-only DOMAIN FILE' or QMP dump-guest-memory"
hint "$TMP/app.dmp" "a Windows user-mode minidump (MDMP)" "open it in WinDbg as it is"
hint "$TMP/arm.elf" "an ELF core for AArch64 (e_machine 183)" "wdt reads dumps of x86 (x86-64 or i386) guests only"
hint "$TMP/arm.kdump" "a kdump file of another architecture (machine 'aarch64')" "x86"

expect_exit 3 "verify on a minidump" "$WDT" verify "$TMP/app.dmp"
check "  ... says what it is" grep -qF "wdt: $TMP/app.dmp: not a readable DMP: a Windows user-mode minidump (MDMP)" <<<"$ERR"
expect_exit 3 "--json: the hint is the error object" "$WDT" info --json "$TMP/app.dmp"
check "  ... status unsupported, exit_code 3, the message" python3 -c '
import json, sys; e = json.loads(sys.argv[1])["error"]
assert e["status"] == "unsupported" and e["exit_code"] == 3, e
assert e["message"].startswith("a Windows user-mode minidump"), e' "$OUT"
# --format is the user's word: read as told, no hint.
expect_exit 0 "--format=raw reads it anyway" "$WDT" info --format=raw "$TMP/app.dmp"
done_testing
