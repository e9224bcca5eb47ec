#!/bin/bash
# Writers end to end: ELF cores made here (PT_LOADs of zero, random and
# text pages) and their kdump forms (mkkdump, several codecs, flattened)
# written as DMP, raw and ELF by tools/writetest. A parser in this script
# (dmp64.md §3/§6/§7) checks every page of each DMP against the ELF; kdump
# inputs with 1 or 2 threads give byte-identical DMPs.
. "$(dirname "$0")/lib.sh"
: "${BUILD:?BUILD must point at the build directory}"
WT=${WRITETEST:-$BUILD/tools/writetest}
KT=${KDUMPTEST:-$BUILD/tools/kdumptest}
MK=${MKKDUMP:-$BUILD/tools/mkkdump}
# make integration builds them: missing, they are a failure, not a skip.
for t in "$WT" "$KT" "$MK"; do [ -x "$t" ] || { not_ok "$t built (make writetest kdumptest kdumpgen)"; done_testing; exit 1; }; done

# mkelf OUT NRUNS: runs of 1..40 pages at page-aligned PAs with gaps.
mkelf() {
python3 - "$1" "$2" <<'PY'
import random, struct, sys
out, n = sys.argv[1], int(sys.argv[2])
r = random.Random(n)
runs, pa = [], 0x1000
for i in range(n):
    pages = r.randint(1, 40)
    runs.append((pa, pages))
    pa += (pages + r.randint(1, 8)) * 4096
def page(k):
    m = k % 5
    return (bytes(4096) if m in (0, 3) else r.randbytes(4096) if m == 1
            else (b"page %06d " % k) * 341 + b"    ")
phoff, phnum = 64, len(runs)
data_off = (64 + 56 * phnum + 4095) // 4096 * 4096
eh = b"\x7fELF\x02\x01\x01" + bytes(9)
eh += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56,
                  phnum, 64, 0, 0)
ph, off, body, k = b"", data_off, bytearray(), 0
for pa, pages in runs:
    ph += struct.pack("<IIQQQQQQ", 1, 7, off, 0, pa, pages * 4096,
                      pages * 4096, 0)
    for _ in range(pages):
        body += page(k); k += 1
    off += pages * 4096
with open(out, "wb") as f:
    f.write(eh + ph)
    f.write(bytes(data_off - len(eh) - len(ph)))
    f.write(body)
PY
}

# checkdmp DMP ELF TYPE: parse the DMP, compare with the ELF's memory.
checkdmp() {
python3 - "$@" <<'PY'
import struct, sys, os
dmp, elf, want_type = sys.argv[1], sys.argv[2], int(sys.argv[3])
e = open(elf, "rb").read()
phoff, = struct.unpack_from("<Q", e, 32)
phnum, = struct.unpack_from("<H", e, 56)
mem = {}
for i in range(phnum):
    t, fl, off, va, pa, fsz, msz, al = struct.unpack_from("<IIQQQQQQ", e, phoff + 56 * i)
    for k in range(fsz // 4096):
        mem[pa // 4096 + k] = e[off + 4096 * k: off + 4096 * (k + 1)]
d = open(dmp, "rb").read()
def fail(msg):
    print("# " + msg); sys.exit(1)
if d[0:8] != b"PAGEDU64": fail("magic")
typ, = struct.unpack_from("<I", d, 0xF98)
need, = struct.unpack_from("<q", d, 0xFA0)
if typ != want_type: fail("type %d" % typ)
if need != len(d) or need != os.path.getsize(dmp): fail("RequiredDumpSpace %d, size %d" % (need, len(d)))
got = {}
if typ == 1:
    nruns, npages = struct.unpack_from("<I4xQ", d, 0x88)
    if nruns > 42: fail("too many runs")
    off = 0x2000
    for i in range(nruns):
        base, cnt = struct.unpack_from("<QQ", d, 0x98 + 16 * i)
        for k in range(cnt):
            got[base + k] = d[off: off + 4096]; off += 4096
    if sum(1 for _ in got) != npages: fail("NumberOfPages")
else:
    if d[0x88:0x8C] != b"PAGE": fail("PMB not PAGE-filled")
    if d[0x2000:0x2008] != b"FDMPDUMP": fail("FDMP header")
    first, present, bits = struct.unpack_from("<QQQ", d, 0x2020)
    if first % 4096 or bits % 8: fail("alignment")
    off = first
    for f in range(bits):
        if d[0x2038 + f // 8] >> (f % 8) & 1:
            got[f] = d[off: off + 4096]; off += 4096
    if len(got) != present or off != len(d): fail("present count")
if sorted(got) != sorted(mem): fail("page set differs")
bad = [f for f in mem if mem[f] != got[f]]
if bad: fail("%d pages differ, first PFN 0x%x" % (len(bad), bad[0]))
PY
}

mkelf "$TMP/five.elf" 5
mkelf "$TMP/many.elf" 50
for g in five many; do
	type=1; [ $g = many ] && type=5
	expect_exit 0 "$g: ELF -> DMP" "$WT" dmp "$TMP/$g.elf" "$TMP/$g.dmp"
	check "$g: DumpType $type, every page equal" checkdmp "$TMP/$g.dmp" "$TMP/$g.elf" $type
	expect_exit 0 "$g: ELF -> bitmap DMP" "$WT" dmp "$TMP/$g.elf" "$TMP/$g.b.dmp" --bitmap
	check "$g: bitmap DMP, every page equal" checkdmp "$TMP/$g.b.dmp" "$TMP/$g.elf" 5
	check "$g: sparse (allocated < size)" test $(( $(stat -c %b "$TMP/$g.dmp") * 512 )) -lt "$(stat -c %s "$TMP/$g.dmp")"
	for v in "zlib" "zstd --flat" "lzo" "none"; do
		"$MK" --codec $v "$TMP/$g.elf" "$TMP/$g.kd" >/dev/null 2>&1 || { not_ok "$g: mkkdump $v"; continue; }
		"$WT" dmp "$TMP/$g.kd" "$TMP/$g.k1.dmp" --threads 1 >/dev/null &&
		"$WT" dmp "$TMP/$g.kd" "$TMP/$g.k2.dmp" --threads 2 >/dev/null
		check "$g: kdump-$v -> DMP with 1 thread = ELF -> DMP" cmp -s "$TMP/$g.k1.dmp" "$TMP/$g.dmp"
		check "$g: kdump-$v -> DMP with 2 threads = ELF -> DMP" cmp -s "$TMP/$g.k2.dmp" "$TMP/$g.dmp"
		cmp -s "$TMP/$g.k1.dmp" "$TMP/$g.dmp" || echo "# $(cmp "$TMP/$g.k1.dmp" "$TMP/$g.dmp" 2>&1)"
		rm -f "$TMP/$g.kd" "$TMP/$g.k1.dmp" "$TMP/$g.k2.dmp"
	done
	# raw and ELF outputs read back through wdt's readers
	expect_exit 0 "$g: ELF -> raw" "$WT" raw "$TMP/$g.elf" "$TMP/$g.raw"
	expect_exit 0 "$g: raw -> ELF (no sparse)" "$WT" elf "$TMP/$g.raw" "$TMP/$g.2.elf" --no-sparse
	python3 - "$TMP/$g.elf" "$TMP/$g.raw" <<'PY' && ok "$g: raw image holds every page at its PA, zeros elsewhere" || not_ok "$g: raw image"
import struct, sys
e = open(sys.argv[1], "rb").read(); r = open(sys.argv[2], "rb").read()
phoff, = struct.unpack_from("<Q", e, 32); n, = struct.unpack_from("<H", e, 56)
flat = bytearray(len(r))
for i in range(n):
    t, fl, off, va, pa, fsz, msz, al = struct.unpack_from("<IIQQQQQQ", e, phoff + 56 * i)
    flat[pa:pa + fsz] = e[off:off + fsz]
    end = pa + fsz
sys.exit(0 if bytes(flat) == r and len(r) == end else 1)
PY
	"$WT" elf "$TMP/$g.elf" "$TMP/$g.4.elf" >/dev/null
	check "$g: ELF -> ELF: same runs and bytes through wdt's ELF reader" \
		test "$("$KT" runs "$TMP/$g.elf"; "$KT" cat "$TMP/$g.elf" | sha256sum)" = \
		"$("$KT" runs "$TMP/$g.4.elf"; "$KT" cat "$TMP/$g.4.elf" | sha256sum)"
	"$WT" dmp "$TMP/$g.2.elf" "$TMP/$g.3.dmp" >/dev/null
	check "$g: raw -> ELF -> DMP: one run, gaps as zero pages" checkdmp "$TMP/$g.3.dmp" "$TMP/$g.2.elf" 1
done
done_testing
