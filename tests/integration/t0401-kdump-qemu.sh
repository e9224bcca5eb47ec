#!/bin/bash
# kdump reader end to end: real QEMU dumps (ELF, kdump-zlib flattened, its
# makedumpfile -R rebuild), mkkdump's codecs/layouts, the raw image and its
# gzip/LZ4 forms must all give identical bytes for every physical page
# through wdt's readers; libkdumpfile must agree where it can read a file.
. "$(dirname "$0")/lib.sh"
: "${BUILD:?BUILD must point at the build directory}"
KT=${KDUMPTEST:-$BUILD/tools/kdumptest}
MK=${MKKDUMP:-$BUILD/tools/mkkdump}
PY=/usr/bin/python3
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
# make integration builds both: missing, they are a failure, not a skip.
for t in "$KT" "$MK"; do [ -x "$t" ] || { not_ok "$t built (make kdumptest kdumpgen)"; done_testing; exit 1; }; done

# A blob of known bytes: zero, random, text and constant pages.
python3 - "$TMP/blob" <<'PY'
import random, sys
r = random.Random(4)
b = bytearray()
for i in range(96):
    k = i % 4
    b += (bytes(4096) if k == 0 else r.randbytes(4096) if k == 1 else
          (b"page%04d" % i) * 512 if k == 2 else bytes([i]) * 4096)
open(sys.argv[1], "wb").write(b)
PY
qemu-system-x86_64 -S -machine q35 -m 128M -display none -nodefaults \
	-qmp unix:"$TMP/sock",server=on,wait=off \
	-device loader,file="$TMP/blob",addr=0x200000,force-raw=on &
QPID=$!
trap 'kill $QPID 2>/dev/null; rm -rf "$TMP"' EXIT
python3 "$TOP/tools/qmp.py" "$TMP/sock" \
	dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$TMP/d.elf\"}" \
	dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$TMP/d.kz\",\"format\":\"kdump-zlib\"}" \
	>/dev/null
check "QEMU wrote ELF and kdump-zlib dumps" test -s "$TMP/d.elf" -a -s "$TMP/d.kz"
# kdump-raw-* exist from QEMU 8.2 on; use them when this QEMU has them.
python3 "$TOP/tools/qmp.py" "$TMP/sock" \
	dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$TMP/d.kzraw\",\"format\":\"kdump-raw-zlib\"}" \
	quit >/dev/null 2>&1 || { rm -f "$TMP/d.kzraw"; python3 "$TOP/tools/qmp.py" "$TMP/sock" quit >/dev/null 2>&1; }
wait $QPID 2>/dev/null

# Reference: the ELF's PT_LOADs, parsed here independently of wdt, as
# merged physical ranges and a raw image (offset = physical address).
python3 - "$TMP/d.elf" "$TMP/ranges" "$TMP/d.raw" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb"); d = f.read(64)
phoff, = struct.unpack_from("<Q", d, 0x20)
phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
loads = []
for i in range(phnum):
    f.seek(phoff + i * phentsize)
    t, fl, off, va, pa, fsz, msz, al = struct.unpack("<IIQQQQQQ", f.read(56))
    if t == 1 and fsz:
        loads.append((pa, fsz, off))
loads.sort()
merged = []
for pa, n, _ in loads:
    if merged and merged[-1][0] + merged[-1][1] == pa:
        merged[-1][1] += n
    else:
        merged.append([pa, n])
with open(sys.argv[2], "w") as o:
    for pa, n in merged:
        o.write("0x%x 0x%x\n" % (pa, n))
with open(sys.argv[3], "wb") as o:
    for pa, n, off in loads:
        f.seek(off); o.seek(pa); o.write(f.read(n))
PY

# merged_runs IMG: the reader's runs with adjacent ones joined.
merged_runs() {
	local s=-1 e=-1 pa n
	while read -r pa n; do
		if [ $((pa)) -eq $e ]; then e=$((e + n)); continue; fi
		[ $s -ge 0 ] && printf '0x%x 0x%x\n' $s $((e - s))
		s=$((pa)); e=$((pa + n))
	done < <("$KT" runs "$1")
	[ $s -ge 0 ] && printf '0x%x 0x%x\n' $s $((e - s))
}
# hashes IMG: sha256 of every reference range read through wdt.
hashes() {
	while read -r pa len; do
		"$KT" read "$1" "$pa" "$len" | sha256sum | cut -c1-64
	done <"$TMP/ranges"
}
hashes "$TMP/d.elf" >"$TMP/h.ref"
check "ELF read through wdt has the reference's bytes" \
	cmp -s "$TMP/h.ref" <(while read -r pa len; do
		dd if="$TMP/d.raw" bs=4096 skip=$((pa / 4096)) count=$((len / 4096)) status=none | sha256sum | cut -c1-64
	done <"$TMP/ranges")
check "blob bytes at 0x200000 in the kdump-zlib dump" \
	cmp -s "$TMP/blob" <("$KT" read "$TMP/d.kz" 0x200000 $((96 * 4096)))

makedumpfile -R "$TMP/d.kzr" <"$TMP/d.kz" >/dev/null 2>&1
check "makedumpfile -R rebuilt QEMU's flattened file" test -s "$TMP/d.kzr"

imgs="d.kz d.kzr"
[ -s "$TMP/d.kzraw" ] && imgs="$imgs d.kzraw"
if [ -x "$MK" ]; then
	for c in zlib lzo snappy zstd none; do
		"$MK" --codec $c "$TMP/d.elf" "$TMP/m.$c" 2>/dev/null
		"$MK" --codec $c --flat "$TMP/d.elf" "$TMP/m.$c.flat" 2>/dev/null
		imgs="$imgs m.$c m.$c.flat"
	done
	"$MK" --codec zlib --flat --scramble --split-records 1000 "$TMP/d.elf" "$TMP/m.scr" 2>/dev/null
	imgs="$imgs m.scr"
	for v in 5 4 3 2 1; do
		"$MK" --codec snappy --header-version $v "$TMP/d.elf" "$TMP/m.v$v" 2>/dev/null
		imgs="$imgs m.v$v"
	done
else
	echo "# $MK not built: mkkdump variants not covered"
fi
gzip -c "$TMP/d.raw" >"$TMP/d.raw.gz"
lz4 -q -c "$TMP/d.raw" >"$TMP/d.raw.lz4"
lz4 -q -c -BD -B4 "$TMP/d.raw" >"$TMP/d.raw.lz4dep"
imgs="$imgs d.raw d.raw.gz d.raw.lz4 d.raw.lz4dep"

for i in $imgs; do
	f=$TMP/$i
	if [ ! -s "$f" ]; then not_ok "$i was generated"; continue; fi
	if [ "${i#d.raw}" = "$i" ]; then
		check "$i: runs are the ELF's RAM ranges" \
			cmp -s "$TMP/ranges" <(merged_runs "$f")
	fi
	check "$i: every page equals the ELF's" cmp -s "$TMP/h.ref" <(hashes "$f")
done

"$KT" info "$TMP/d.kz" >"$TMP/info"
check "variant of QEMU's file is 'kdump, zlib, flattened'" grep -qx 'variant kdump, zlib, flattened' "$TMP/info"
check "CPU state from the kdump notes matches the ELF's" \
	cmp -s <(grep '^cpu' "$TMP/info") <("$KT" info "$TMP/d.elf" | grep '^cpu')
check "kdump notes are the ELF's notes" \
	cmp -s <(grep '^note' "$TMP/info") <("$KT" info "$TMP/d.elf" | grep '^note')
check "rebuilt file variant is 'kdump, zlib'" \
	grep -qx 'variant kdump, zlib' <("$KT" info "$TMP/d.kzr")

# Page readers on several threads give the same bytes as page reads.
n=$((0x8000000 / 4096))
check "page readers, 2 threads, equal reads" \
	cmp -s <("$KT" bulk "$TMP/d.kzr" 0 $n 2) <("$KT" read "$TMP/d.kzr" 0 0x8000000)
check "page readers on the flattened file, 3 threads" \
	cmp -s <("$KT" bulk "$TMP/d.kz" 0 $n 3) <("$KT" read "$TMP/d.elf" 0 0x8000000)
check "page readers read a hole as zeros" \
	cmp -s <("$KT" bulk "$TMP/d.kzr" $((0x8000000 / 4096)) 2 2) <(head -c 8192 /dev/zero)
expect_exit 3 "read of a hole between runs" "$KT" read "$TMP/d.kz" 0x9000000 4096
check "... has status no_data" grep -q 'no_data' <<<"$ERR"

# Pages a dump excludes (makedumpfile-style zero-page exclusion) are holes.
if [ -x "$MK" ]; then
	"$MK" --codec zstd --exclude-zero "$TMP/d.elf" "$TMP/m.ex" 2>/dev/null
	expect_exit 3 "excluded zero page at 0x200000 is not read as zeros" \
		"$KT" read "$TMP/m.ex" 0x200000 4096
	check "... but reported as no_data" grep -q 'no_data' <<<"$ERR"
	check "a non-zero page next to it reads the blob's bytes" \
		cmp -s <("$KT" read "$TMP/m.ex" 0x201000 4096) \
		<(dd if="$TMP/blob" bs=4096 skip=1 count=1 status=none)
fi

# libkdumpfile (Debian) must read the same bytes from non-flattened files.
if $PY -c 'import kdumpfile' 2>/dev/null; then
	for i in d.kzr m.zlib m.lzo m.snappy m.zstd m.none m.v5 m.v4 m.v3; do
		[ -s "$TMP/$i" ] || continue
		check "libkdumpfile reads $i like wdt" cmp -s "$TMP/h.ref" <($PY - "$TMP/$i" "$TMP/ranges" <<'PY'
import hashlib, sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
for line in open(sys.argv[2]):
    pa, n = (int(x, 16) for x in line.split())
    h = hashlib.sha256()
    for a in range(pa, pa + n, 1 << 20):
        h.update(k.read(kdumpfile.KDUMP_MACHPHYSADDR, a, min(1 << 20, pa + n - a)))
    print(h.hexdigest())
PY
)
	done
else
	echo "# /usr/bin/python3 has no kdumpfile module: libkdumpfile comparison skipped"
fi

# wdt info shows the kdump facts.
expect_exit 0 "wdt info on QEMU's flattened kdump" "$WDT" info "$TMP/d.kz"
check "... says kdump, zlib, flattened" grep -q 'kdump, zlib, flattened' <<<"$OUT"
done_testing
