#!/bin/bash
# libvirt save images (formats/libvirt.c) wrapped around the factory's
# migration stream by tools/mklibvirt-save: raw (both byte orders) and gzip
# convert to the same DMP as the guest's ELF dump; info shows the domain
# XML's facts; the compressions wdt does not decode yet, bad versions, an
# XML length past the end and a truncated gzip body: one line, exit 3,
# nothing written.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link gzip
fixture dirs basic crashed
mk="$TOP/tools/mklibvirt-save"

for d in $dirs; do
	n=$(basename "$d")
	rm -f "$TMP/elf.dmp"
	expect_exit 0 "$n: convert the ELF dump" "$WDT" convert --no-pdb "$d/dump.elf" -o "$TMP/elf.dmp"
	for v in "raw" "raw --big-endian" "gzip"; do
		set -- $v
		f=$TMP/$n.save
		rm -f "$f" "$TMP/lv.dmp"
		check "$n $v: mklibvirt-save" "$mk" "$d/dump.qevm" "$f" --format "$@" --name "guest-$n" --vcpus 2 --memory-kib 262144
		expect_exit 0 "$n $v: info --json" "$WDT" info --json "$f"
		check "  ... format libvirt, the XML's facts" python3 -c '
import json, sys
i = json.loads(sys.argv[1]); l = i["libvirt"]
assert i["format"] == "libvirt", i["format"]
assert l["name"] == sys.argv[2] and l["vcpus"] == 2 and l["memory_kib"] == 262144, l
assert l["compression"] == sys.argv[3] and l["finished"] is True, l
assert l["byte_order"] == ("big-endian" if sys.argv[4] else "little-endian"), l
assert i["migration_stream"]["machine"].startswith("pc-i440fx-"), i' "$OUT" "guest-$n" "$1" "${2:-}"
		expect_exit 0 "$n $v: convert" "$WDT" convert --no-pdb "$f" -o "$TMP/lv.dmp"
		check "  ... byte-identical to the ELF dump's DMP" cmp "$TMP/lv.dmp" "$TMP/elf.dmp"
	done
done

b=$(head -n 1 <<<"$dirs")/dump.qevm
bad() { # bad DESC NEEDLE MKLIBVIRT-ARGS... [-- post-processing]
	local d=$1 needle=$2; shift 2
	local f=$TMP/bad.save
	rm -f "$f" "$TMP/out.dmp"
	"$mk" "$b" "$f" "$@" || { not_ok "$d: mklibvirt-save $*"; return; }
	[ -n "${CUT:-}" ] && truncate -s "$CUT" "$f"
	expect_exit 3 "$d: convert fails" "$WDT" convert --no-pdb "$f" -o "$TMP/out.dmp"
	check "  ... one line naming the file and the fault" bash -c \
		'[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && grep -qF -- "wdt: $2: " <<<"$1" && grep -qF -- "$3" <<<"$1"' _ "$ERR" "$f" "$needle"
	check "  ... nothing written" test ! -e "$TMP/out.dmp"
}
bad "version 3" "libvirt save image version 3 is not known" --version 3
bad "XML length past the end" "runs past the end of the file" --xml-len-past-end
for c in bzip2 xz lzop zstd; do
	command -v $c >/dev/null || { not_ok "$c not installed (tools/deps.sh)"; continue; }
	bad "$c body" "$c-compressed, which wdt does not decompress yet: run 'tail -c +65537 FILE | $c -dc > vm.qevm'" --format $c
done
CUT=400000 bad "truncated gzip body" "the gzip-compressed stream" --format gzip
CUT=2000000 bad "truncated raw body" "the file is truncated" --format raw
CUT=2000000 bad "unfinished save (Part magic)" "an unfinished save image (libvirt was still writing it)" --partial
done_testing
