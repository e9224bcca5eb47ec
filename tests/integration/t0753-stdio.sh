#!/bin/bash
# `-` for standard output (-o -) and standard input (IMAGE -): every output
# format streams in order and equals the file output byte for byte; the
# report and errors go to stderr; a terminal, the input itself and pipes as
# input are refused with the reason; a write error is exit 4, SIGPIPE the
# usual death; a redirected file is cut back on failure.
. "$(dirname "$0")/lib.sh"
set -o pipefail
need python3 sha256sum cmp
fixture dir basic
S=(--offline --symbol-path "$dir/symbols")
ELF=$dir/dump.elf KD=$dir/dump.kdump-zlib.flat
sum() { sha256sum | cut -d' ' -f1; }

# ---- output: each format, file vs pipe vs redirected file ----
for v in "dmp elf $ELF" "dmp kdump $KD" "elf kdump $KD" "raw elf $ELF"; do
	set -- $v; of=$1 in=$3; name="-O $1 from $2"
	expect_exit 0 "$name to a file" "$WDT" convert -q "${S[@]}" -O "$of" "$in" -o "$TMP/f.out"
	if [ "$of" != raw ]; then # raw: 4 GiB of zeros through a pipe is slow; the file below
		expect_exit 0 "$name to a pipe: the same bytes as the file" bash -o pipefail -c \
			'"$@" | cmp - "$0"' "$TMP/f.out" "$WDT" convert -q "${S[@]}" -O "$of" "$in" -o -
		check "  ... the report went to stderr" grep -q "^Output: *-$" <<<"$ERR"
	fi
	expect_exit 0 "$name to a redirected file (> FILE)" bash -c \
		'"$@" >"$0"' "$TMP/r.out" "$WDT" convert -q "${S[@]}" -O "$of" "$in" -o -
	check "  ... the same bytes" cmp "$TMP/r.out" "$TMP/f.out"
	check "  ... 'On disk' is unknown" grep -q "^On disk: *-$" <<<"$ERR"
	[ "$of" = raw ] && check "  ... holes stay holes" test "$(stat -c %b "$TMP/r.out")" -lt 100000
	rm -f "$TMP/r.out" "$TMP/f.out"
done

expect_exit 0 "--json report to stderr with -o -" bash -c \
	'"$@" >"$0"' "$TMP/j.dmp" "$WDT" convert -q --json "${S[@]}" "$ELF" -o -
check "  ... stderr is the JSON report" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["output"] == "-" and d["disk_usage"] is None, d' "$ERR"
check "  ... stdout is the DMP" test "$(head -c 8 "$TMP/j.dmp")" = PAGEDU64
expect_exit 0 "  ... which verify reads from standard input" bash -c '"$0" verify - <"$1"' "$WDT" "$TMP/j.dmp"
rm -f "$TMP/j.dmp"
expect_exit 3 "--json error with -o -: nothing on stdout" "$WDT" convert --json "$TMP/missing.elf" -o -
check "  ... stdout empty" test -z "$OUT"
check "  ... the JSON error on stderr" python3 -c '
import json, sys; s = sys.argv[1]; d = json.loads(s[:s.rindex("}") + 1]); assert d["error"]["status"] == "not_found", d' "$ERR"

# ---- refusals and failures ----
expect_exit 2 "a terminal on stdout is refused" python3 -c '
import os, pty, subprocess, sys
m, s = pty.openpty()
r = subprocess.run(sys.argv[1:], stdout=s, stderr=subprocess.PIPE)
sys.stderr.write(r.stderr.decode()); os.close(s)
sys.exit(r.returncode)' "$WDT" convert -q "${S[@]}" "$ELF" -o -
check "  ... says why and what to do" grep -q "wdt: standard output: is a terminal; redirect it (> FILE, | COMMAND) or give -o FILE" <<<"$ERR"
cp "$KD" "$TMP/in.elf"; before=$(sum <"$TMP/in.elf")
expect_exit 2 "stdout appending to the input is refused" bash -c '"$@" >>"$0"' "$TMP/in.elf" "$WDT" convert -q "${S[@]}" "$TMP/in.elf" -o -
check "  ... names it" grep -q "wdt: standard output: is the input $TMP/in.elf" <<<"$ERR"
check "  ... the input is unchanged" test "$(sum <"$TMP/in.elf")" = "$before"
expect_exit 4 "a full device is exit 4" bash -c '"$@" >/dev/full' _ "$WDT" convert -q -O elf "$ELF" -o -
check "  ... one line naming standard output" bash -c '[ "$(wc -l <<<"$1")" -eq 1 ] && grep -q "^wdt: standard output: writing at offset 0x0: No space left on device$" <<<"$1"' _ "$ERR"
# DEFAULT_SIGNALS: SIGPIPE's default action is the subject (not an inherited ignore).
expect_exit 141 "a reader that goes away: killed by SIGPIPE" "${DEFAULT_SIGNALS[@]}" bash -c \
	'"$@" | head -c 100 >/dev/null; exit "${PIPESTATUS[0]}"' _ "$WDT" convert -q -O elf "$ELF" -o -
expect_exit 4 "... with SIGPIPE ignored: exit 4" bash -c \
	'trap "" PIPE; "$@" | head -c 100 >/dev/null; exit "${PIPESTATUS[0]}"' _ "$WDT" convert -q -O elf "$ELF" -o -
check "  ... says Broken pipe" grep -q "standard output: writing at offset 0x[0-9a-f]*: Broken pipe" <<<"$ERR"
printf 'prefix\n' >"$TMP/app.bin"
expect_exit 4 "a file-size limit half-way (>> FILE)" bash -c \
	'ulimit -f 1024; "$@" >>"$0"' "$TMP/app.bin" "$WDT" convert -q -O elf "$ELF" -o -
check "  ... File too large" grep -q "File too large" <<<"$ERR"
check "  ... the file is cut back to what it held" test "$(cat "$TMP/app.bin")" = prefix
expect_exit 0 "... and without the limit, appended after it" bash -c \
	'"$@" >>"$0"' "$TMP/app.bin" "$WDT" convert -q -O elf "$ELF" -o -
check "  ... prefix, then the ELF" test "$(head -c 11 "$TMP/app.bin" | tail -c 4)" = "$(printf '\177ELF')"
rm -f "$TMP/app.bin"

# ---- input ----
expect_exit 0 "info - < FILE" bash -c '"$0" info --json - <"$1"' "$WDT" "$ELF"
check "  ... reads it" python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["format"] == "elf", d' "$OUT"
expect_exit 0 "convert FILE -o FILE" "$WDT" convert -q "${S[@]}" "$KD" -o "$TMP/k.dmp"
expect_exit 0 "convert - < kdump -o - | cmp: both ends, the same bytes" bash -o pipefail -c \
	'"$0" convert -q --offline --symbol-path "$1" - -o - <"$2" | cmp - "$3"' "$WDT" "$dir/symbols" "$KD" "$TMP/k.dmp"
rm -f "$TMP/k.dmp"
for f in "$ELF elf" "$KD kdump" "$dir/dump.raw raw"; do
	set -- $f
	expect_exit 3 "a pipe on stdin ($2) is refused" bash -c 'head -c 65536 "$1" | "$0" info -' "$WDT" "$1"
	check "  ... names the format and what to do" grep -qF "wdt: -: standard input is a pipe; $2 needs random access: save it to a file first (cat > FILE) and give FILE" <<<"$ERR"
done
expect_exit 3 "a QEMU migration stream on a pipe: refused, saying why" bash -c 'printf "QEVM\0\0\0\3" | "$0" info -' "$WDT"
check "  ... names the format and what to do" grep -q "standard input is a pipe; qevm needs random access: save it to a file first" <<<"$ERR"
expect_exit 3 "verify - on a pipe" bash -c 'printf PAGEDU64 | "$0" verify -' "$WDT"
check "  ... refused, saying why" grep -q "standard input is a pipe; wdt reads images at random offsets: save it to a file first" <<<"$ERR"
done_testing
