#!/bin/bash
# Bitmap DMPs (DumpType 5, 'FDMP'): built from QEMU's full DMP by
# t08-dmp.py (independent of wdt), with a few PFNs left out. wdt info and
# wdt read must give the same bytes as the full dump for present pages,
# no data for the left-out ones; verify must be sound, and must catch a
# wrong TotalPresentPages, a bad bitmap header and truncation. (QEMU's DMP
# of this crashed guest lost the bugcheck context: crash-context-lost.)
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
H="python3 $TOP/tests/integration/t08-dmp.py"
fixture dir crashed
FULL=$dir/dump.win-dmp
BMP=$TMP/bitmap.dmp
U=$TMP/undo
: >"$U"
# Left out: a lone page, two neighbours, and the last page.
DROP=0x10,0x500,0x501,0xffff
check "bitmap DMP built" $H tobitmap "$FULL" "$BMP" "$DROP"

expect_exit 0 "wdt info --json on the bitmap DMP" "$WDT" info --json "$BMP"
echo "$OUT" >"$TMP/i.json"
check "  ... format dmp, bitmap full" test "$(json_get "$TMP/i.json" "d['format'] + '/' + d['dmp']['dump_type_name']")" = "dmp/bitmap full"
check "  ... 3 runs around the holes (the last page is cut off)" test "$(json_get "$TMP/i.json" "d['memory']['run_count']")" = 3
check "  ... total = 0x10000 - 4 pages" test "$(json_get "$TMP/i.json" "d['memory']['total']")" = $(((0x10000 - 4) * 4096))
check "  ... set bits reported" test "$(json_get "$TMP/i.json" "d['dmp']['bitmap']['set_bits']")" = $((0x10000 - 4))

# Same bytes as the full dump: across every run boundary and a large span.
same() {
	local pa=$1 len=$2
	cmp -s <("$WDT" read --raw "$BMP" "$pa" "$len") <("$WDT" read --raw "$FULL" "$pa" "$len")
}
for r in 0x0:0x10000 0x11000:0x1000 0x4ff000:0x1000 0x502000:0x2000 0x6687000:0x200000 0xfffe000:0x1000; do
	check "read $r equals the full dump" same "${r%%:*}" "${r##*:}"
done
# The full dump's bytes at a left-out page are really there (so a hole is a hole).
check "full dump has PFN 0x500" bash -c '"$0" read "$1" 0x500000 16 >/dev/null' "$WDT" "$FULL"
expect_exit 3 "bitmap dump: PFN 0x500 is not in the image" "$WDT" read "$BMP" 0x500000 16
expect_exit 3 "bitmap dump: last page is not in the image" "$WDT" read "$BMP" 0xffff000 16

expect_exit 0 "verify: bitmap DMP is sound" "$WDT" verify --json "$BMP"
echo "$OUT" >"$TMP/v.json"
check "  ... only QEMU's own warnings" test "$($H codes "$TMP/v.json")" = "context-unset:warning crash-context-lost:warning pfn-database:warning"

$H patch "$BMP" "$U" 0x2028:Q:$((0x10000 - 3))
expect_exit 1 "verify: TotalPresentPages one too many" "$WDT" verify --json "$BMP"
echo "$OUT" >"$TMP/v.json"
check "  ... bitmap-popcount" test "$($H codes "$TMP/v.json")" = "bitmap-popcount:error context-unset:warning crash-context-lost:warning pfn-database:warning"
$H undo "$BMP" "$U"
$H patch "$BMP" "$U" 0x2000:s:XDMP
expect_exit 1 "verify: bitmap signature XDMP" "$WDT" verify --json "$BMP"
echo "$OUT" >"$TMP/v.json"
check "  ... bitmap-header, memory checks skipped" test "$($H codes "$TMP/v.json")" = "bitmap-header:error context-unset:warning"
expect_exit 3 "info: bitmap signature XDMP is one-line error" "$WDT" info "$BMP"
$H undo "$BMP" "$U"
$H patch "$BMP" "$U" 0x2020:Q:0x3010
expect_exit 1 "verify: FirstPage unaligned" "$WDT" verify --json "$BMP"
echo "$OUT" >"$TMP/v.json"
check "  ... bitmap-header" test "$($H codes "$TMP/v.json")" = "bitmap-header:error context-unset:warning"
$H undo "$BMP" "$U"

size=$(stat -c %s "$BMP")
truncate -s $((size - 2 * 4096)) "$BMP"
expect_exit 1 "verify: bitmap DMP cut 2 pages short" "$WDT" verify --json "$BMP"
echo "$OUT" >"$TMP/v.json"
check "  ... truncated, 2 pages missing" grep -q "2 pages missing" "$TMP/v.json"
check "  ... truncated only" test "$($H codes "$TMP/v.json")" = "context-unset:warning crash-context-lost:warning pfn-database:warning truncated:error"
expect_exit 0 "info on the cut file" "$WDT" info --json "$BMP"
echo "$OUT" >"$TMP/i.json"
check "  ... reports 2 pages past the end" test "$(json_get "$TMP/i.json" "d['dmp']['bitmap']['pages_beyond_eof']")" = 2
done_testing
