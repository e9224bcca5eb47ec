#!/bin/bash
# Bad input: a one-line error naming the file and the problem, exit 3 (4 for
# environment), no crash, never a partial result on stdout.
. "$(dirname "$0")/lib.sh"
need python3

one_line() { [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ]; }
bad() { # bad EXIT DESC FILE NEEDLE
	expect_exit "$1" "$2" "$WDT" info "$3"
	check "  ... one line naming the file: $4" bash -c \
		'[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && grep -qF -- "wdt: $2: " <<<"$1" && grep -qF -- "$3" <<<"$1"' _ "$ERR" "$3" "$4"
	check "  ... nothing on stdout" test -z "$OUT"
}

: >"$TMP/empty"
bad 3 "empty file" "$TMP/empty" "empty file"
bad 3 "a directory" "$TMP" "is a directory"
bad 3 "a missing file" "$TMP/nope.elf" "no such file"
printf 'hello, this is text\n' >"$TMP/text"
bad 3 "a text file" "$TMP/text" "not a memory image"

# A tiny but valid-looking core from the fuzz corpus, then damaged copies.
SEED="$TOP/tests/fuzz/corpus/elf/qemu72-4g-i386.elf"
expect_exit 0 "the seed core is readable" "$WDT" info "$SEED"
head -c 40 "$SEED" >"$TMP/trunc-hdr.elf"
bad 3 "ELF truncated in its header" "$TMP/trunc-hdr.elf" "ELF header truncated"
head -c 300 "$SEED" >"$TMP/trunc-ph.elf"
bad 3 "ELF truncated in its program headers" "$TMP/trunc-ph.elf" "program headers"
head -c 3000 "$SEED" >"$TMP/trunc-seg.elf"
bad 3 "ELF truncated in a segment" "$TMP/trunc-seg.elf" "the dump is truncated"
patch() { python3 - "$@" <<'PY'
import sys
src, dst, off, hexbytes = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), bytes.fromhex(sys.argv[4])
b = bytearray(open(src, 'rb').read()); b[off:off+len(hexbytes)] = hexbytes
open(dst, 'wb').write(b)
PY
}
patch "$SEED" "$TMP/class.elf" 4 09
bad 3 "wrong ELF class" "$TMP/class.elf" "bad ELF class 9"
patch "$SEED" "$TMP/mach.elf" 18 b700
bad 3 "wrong machine (AArch64)" "$TMP/mach.elf" "an ELF core for AArch64 (e_machine 183): wdt reads dumps of x86"
# Program header 1 (first PT_LOAD, at e_phoff 192 + 56): p_offset huge.
patch "$SEED" "$TMP/segeof.elf" $((192 + 56 + 8)) 00000000ffffff00
bad 3 "segment beyond end of file" "$TMP/segeof.elf" "past the end of the file"
# Second PT_LOAD's p_paddr moved onto the first: overlapping segments.
patch "$SEED" "$TMP/overlap.elf" $((192 + 2 * 56 + 24)) 0001000000000000
bad 3 "overlapping segments" "$TMP/overlap.elf" "overlap"
# Note: CORE note's n_descsz lies (note segment at 0x248).
patch "$SEED" "$TMP/note.elf" $((0x248 + 4)) 00100000
bad 3 "note with a lying size" "$TMP/note.elf" "descriptor size 4096 runs past"

# Environment: output that cannot be written is exit 4, not success.
expect_exit 4 "stdout on a full device" bash -c "'$WDT' info '$SEED' >/dev/full"
check "  ... says so" grep -q 'writing' <<<"$ERR"
# JSON mode: errors are one complete JSON object too.
expect_exit 3 "--json error" "$WDT" info --json "$TMP/empty"
check "  ... JSON error object with status and file" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); e=d["error"]
assert e["status"]=="unknown_format" and e["file"].endswith("/empty") and e["exit_code"]==3 and d["schema"]=="wdt.info/2"' "$OUT"
# The input is never changed.
sum1=$(sha256sum <"$SEED"); "$WDT" info "$SEED" >/dev/null; sum2=$(sha256sum <"$SEED")
check "input unchanged" test "$sum1" = "$sum2"
done_testing
