#!/bin/bash
# Hostile compressed and flattened inputs are refused quickly with one line
# naming the file and what was capped (issue 16, item 9): 1-byte flattened
# records hit the index cap, a stream of zeros the decompression-bomb guard
# (--max-ratio lifts it), and every command that opens an image offers it.
. "$(dirname "$0")/lib.sh"
need gzip lz4 python3 timeout

# 100,000 1-byte records (1.7 MB): more than the 65,536 a file this size
# may hold.
python3 - "$TMP/flat1" <<'PY'
import struct, sys
out = [b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)]
out[0] = out[0].ljust(4096, b"\0")
for i in range(100000):
    out.append(struct.pack(">qq", 100000 - i, 1) + b"K")
out.append(struct.pack(">qq", -1, -1))
open(sys.argv[1], "wb").write(b"".join(out))
PY
expect_exit 3 "1-byte flattened records: refused" timeout 60 "$WDT" info "$TMP/flat1"
check "  ... one line naming the file and the cap" \
	test "$(grep -c . <<<"$ERR")" -eq 1 -a -n "$(grep -F "wdt: $TMP/flat1: kdump: flattened: record 65536 " <<<"$ERR" | grep -F 'the index is capped at 65536 records')"
expect_exit 3 "  ... also with --format=kdump --json" timeout 60 "$WDT" info --json --format=kdump "$TMP/flat1"
check "  ... JSON error status unsupported" grep -q '"status": "unsupported"' <<<"$OUT"

# 128 MiB of zeros, gzip -9: ≈ 1030× (deflate's limit), above the default.
head -c 128M /dev/zero | gzip -9 >"$TMP/zero.gz"
expect_exit 3 "gzip of zeros: refused as a bomb" timeout 120 "$WDT" info "$TMP/zero.gz"
check "  ... names the file, the ratio and the option" \
	grep -qF "wdt: $TMP/zero.gz: raw-gzip: gzip: decompresses to more than 1000 times its compressed size" <<<"$ERR"
check "  ... remedy" grep -qF -- "; --max-ratio N raises the limit (0: none)" <<<"$ERR"
expect_exit 0 "  ... --max-ratio 0 opens it" timeout 120 "$WDT" info --no-runs --max-ratio 0 "$TMP/zero.gz"
check "  ... whole size" grep -q "Decompressed size: 134217728 " <<<"$OUT"
idx=$(sed -n 's/^ *Index memory: *\([0-9]*\).*/\1/p' <<<"$OUT")
check "  ... index of deflated windows: < 64 KiB for 32 checkpoints (was 1 MiB)" test "${idx:-999999}" -lt 65536
expect_exit 0 "  ... --max-ratio 2000 opens it" timeout 120 "$WDT" info --no-runs --max-ratio 2000 "$TMP/zero.gz"
expect_exit 2 "--max-ratio junk: usage error" "$WDT" info --max-ratio many "$TMP/zero.gz"

# LZ4 of zeros (≈ 255×) passes the default; a low limit refuses it.
head -c 64M /dev/zero | lz4 -q -c >"$TMP/zero.lz4"
expect_exit 0 "lz4 of zeros: within the default" timeout 60 "$WDT" info --no-runs "$TMP/zero.lz4"
expect_exit 3 "  ... refused with --max-ratio 100" timeout 60 "$WDT" find-kernel --max-ratio 100 "$TMP/zero.lz4"
check "  ... message" grep -qF "raw-lz4: LZ4: decompresses to more than 100 times" <<<"$ERR"

for c in info find-kernel kdbg convert triage symbols read; do
	check "wdt $c --help lists --max-ratio" grep -q -- "--max-ratio" <("$WDT" "$c" --help)
done
done_testing
