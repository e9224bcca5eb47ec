#!/bin/bash
# Every DMP `wdt convert` writes (full and bitmap, from ELF and kdump input)
# must verify clean, warnings included (--strict).
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
# convert is a command of every build: a broken "convert --help" is a
# failure, not a reason to skip.
expect_exit 0 "wdt convert --help" "$WDT" convert --help
for name in crashed smp4; do
	fixture dir "$name"
	for input in dump.kdump-zlib dump.elf; do
		for type in full bitmap; do
			out=$TMP/$name-$input-$type.dmp
			expect_exit 0 "convert $name/$input --type=$type" \
				"$WDT" convert -q --no-sync --type="$type" "$dir/$input" -o "$out"
			expect_exit 0 "  ... verify --strict" "$WDT" verify --strict --json "$out"
			echo "$OUT" >"$TMP/v.json"
			check "  ... no findings" test "$(json_get "$TMP/v.json" "len(d['findings'])")" = 0
			rm -f "$out"
		done
	done
done
done_testing
