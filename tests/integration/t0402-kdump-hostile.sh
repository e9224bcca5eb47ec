#!/bin/bash
# Malformed kdump and flattened files (tools/mkbad.py): every case fails
# with one line naming the file and the problem and the expected status;
# nothing crashes. The valid overlap case must read the later record.
. "$(dirname "$0")/lib.sh"
: "${BUILD:?BUILD must point at the build directory}"
KT=${KDUMPTEST:-$BUILD/tools/kdumptest}
MKBAD=$TOP/tools/mkbad.py
# make integration builds kdumptest: missing, it is a failure, not a skip.
[ -x "$KT" ] || { not_ok "$KT built (make kdumptest)"; done_testing; exit 1; }

while read -r case want; do
	python3 "$MKBAD" "$case" "$TMP/$case" >/dev/null 2>&1 ||
		{ not_ok "mkbad made $case"; continue; }
	KDUMPTEST_FORMAT=kdump "$KT" cat "$TMP/$case" >/dev/null 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ $rc -eq 3 ] && [ "$lines" -eq 1 ] &&
		grep -q "^kdumptest: $TMP/$case: .*($want)\$" "$TMP/err"; then
		ok "$case: $want"
	else
		not_ok "$case: want $want, got exit $rc: $(head -c 300 "$TMP/err")"
	fi
done <<'CASES'
kdump-trunc-header truncated
kdump-bad-signature unknown_format
kdump-block-size-0 corrupt
kdump-block-size-3 corrupt
kdump-block-size-1g corrupt
kdump-max-mapnr-huge unsupported
kdump-bitmap-small corrupt
kdump-sub-hdr-huge corrupt
kdump-desc-outside corrupt
kdump-desc-negative corrupt
kdump-desc-size-big corrupt
kdump-raw-size-wrong corrupt
kdump-desc-flag-unknown corrupt
kdump-corrupt-data corrupt
kdump-trunc-data corrupt
flat-negative-offset corrupt
flat-past-eof truncated
flat-trunc-record truncated
flat-no-end truncated
flat-zero-size corrupt
flat-loop corrupt
flat-bad-signature unknown_format
CASES

check "corrupt page error names the PFN and the file offset" \
	grep -q 'PFN 0x0: zlib data at file offset 0x[0-9a-f]* (0x[0-9a-f]* bytes) is corrupt' \
	<(KDUMPTEST_FORMAT=kdump "$KT" cat "$TMP/kdump-corrupt-data" 2>&1)

python3 "$MKBAD" flat-overlap "$TMP/overlap" >/dev/null 2>&1
check "flat-overlap: the later record wins (PFN 2 reads 0xEE)" \
	cmp -s <("$KT" read "$TMP/overlap" 0x2000 4096) <(head -c 4096 /dev/zero | tr '\0' '\356')
# Each layer prefixes its context once: "kdump: kdump: ..." was a message
# that named the format the registry already names (issue 16).
python3 "$MKBAD" --recipe 'kdump; truncate desc + 0x10' "$TMP/desc-cut" >/dev/null 2>&1
"$WDT" info "$TMP/desc-cut" >/dev/null 2>"$TMP/err"
check "descriptors past the end: one line, format named once" \
	grep -qx "wdt: $TMP/desc-cut: kdump: the bitmap marks 8 pages but .*" "$TMP/err"
doubled=
for case in $(python3 "$MKBAD" --list | awk '{print $1}'); do
	python3 "$MKBAD" "$case" "$TMP/c" >/dev/null 2>&1 || continue
	"$WDT" info "$TMP/c" >/dev/null 2>"$TMP/err"
	grep -qE '(^|[ ])([A-Za-z_-]+): \2: ' "$TMP/err" && doubled="$doubled $case"
done
check "no mkbad case's error repeats a prefix (${doubled:-none})" [ -z "$doubled" ]
done_testing
