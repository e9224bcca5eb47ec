#!/bin/bash
# mkkdump (tools/mkkdump.c) self-check against independent tools: a real
# QEMU ELF core converted with every codec must read back page-for-page
# through Debian's libkdumpfile, and flattened output must rearrange
# (makedumpfile -R) to the very bytes of the non-flattened one.
. "$(dirname "$0")/lib.sh"

MKKDUMP=${MKKDUMP:-${BUILD:-$TOP/build/rel}/tools/mkkdump}
PY=/usr/bin/python3
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
command -v makedumpfile >/dev/null || skip_all "makedumpfile not installed"
$PY -c 'import kdumpfile' 2>/dev/null || skip_all "python3-libkdumpfile not installed"
[ -x "$MKKDUMP" ] || { not_ok "mkkdump built at $MKKDUMP"; done_testing; exit 1; }

# pagecheck ELF KDUMP [exclude-zero]: every page of every PT_LOAD read via
# libkdumpfile equals the ELF's bytes; holes are absent; with exclude-zero,
# zero pages must be absent too. Also asserts the header's codec bit is the
# one asked for and used by at least one page descriptor.
pagecheck() {
	$PY - "$@" <<'EOF'
import struct, sys, kdumpfile
from kdumpfile.exceptions import NoDataException
elf, kd = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else ""
PAGE = 4096
f = open(elf, "rb"); h = f.read(64)
is64 = h[4] == 2
if is64:
    phoff, = struct.unpack_from("<Q", h, 0x20); phent, phnum = struct.unpack_from("<HH", h, 0x36)
else:
    phoff, = struct.unpack_from("<I", h, 0x1C); phent, phnum = struct.unpack_from("<HH", h, 0x2A)
loads = []
for i in range(phnum):
    f.seek(phoff + i * phent); p = f.read(phent)
    if is64:
        t, _, off, _, pa, fs = struct.unpack_from("<IIQQQQ", p)
    else:
        t, off, _, pa, fs = struct.unpack_from("<IIIII", p)
    if t == 1 and fs:
        loads.append((pa, off, fs))
pages = {}
for pa, off, fs in loads:
    for pfn in range(pa // PAGE, (pa + fs + PAGE - 1) // PAGE):
        pages.setdefault(pfn, [])
def expect(pfn):
    buf = bytearray(PAGE)
    for pa, off, fs in loads:
        a, b = max(pa, pfn * PAGE), min(pa + fs, (pfn + 1) * PAGE)
        if a < b:
            f.seek(off + a - pa); buf[a - pfn * PAGE:b - pfn * PAGE] = f.read(b - a)
    return bytes(buf)
k = kdumpfile.kdumpfile(kd)
A = kdumpfile.KDUMP_MACHPHYSADDR
same = excl = 0
for pfn in sorted(pages):
    want = expect(pfn)
    try:
        got = bytes(k.read(A, pfn * PAGE, PAGE))
    except NoDataException:
        if mode == "exclude-zero" and want == bytes(PAGE):
            excl += 1; continue
        sys.exit("%s: PFN 0x%x missing" % (kd, pfn))
    if got != want:
        sys.exit("%s: PFN 0x%x differs from the ELF" % (kd, pfn))
    if mode == "exclude-zero" and want == bytes(PAGE):
        sys.exit("%s: zero PFN 0x%x not excluded" % (kd, pfn))
    same += 1
top = max(pages) + 1
for pfn in list(range(0, top, 97)) + [top - 1, top, top + 5]:
    if pfn in pages: continue
    try:
        k.read(A, pfn * PAGE, PAGE); sys.exit("%s: hole PFN 0x%x readable" % (kd, pfn))
    except (NoDataException, kdumpfile.exceptions.KDumpBaseException):
        pass
raw = open(kd, "rb").read(8192)
status, = struct.unpack_from("<I", raw, 0x1A8)
sub, bmb = struct.unpack_from("<iI", raw, 0x1B0)
want_flag = {"zlib": 1, "lzo": 2, "snappy": 4, "zstd": 0x20, "none": 0}.get(mode)
if want_flag is not None:
    if status != want_flag:
        sys.exit("%s: status 0x%x, want 0x%x" % (kd, status, want_flag))
    g = open(kd, "rb"); g.seek((1 + sub + bmb) * PAGE)
    n = sum(1 for v in pages) ; used = 0
    for i in range(n):
        d = g.read(24)
        if struct.unpack_from("<I", d, 12)[0] == want_flag and want_flag: used += 1
    if want_flag and not used:
        sys.exit("%s: no page stored with codec flag 0x%x" % (kd, want_flag))
print("# %s: %d pages equal, %d excluded" % (kd.rsplit("/", 1)[-1], same, excl))
EOF
}

# flatcheck FLAT MAXREC: record sizes <= MAXREC; reports order/overlap.
flatcheck() {
	$PY - "$@" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read(); mx = int(sys.argv[2])
assert d[:12] == b"makedumpfile", "bad flat signature"
pos, recs = 4096, []
while True:
    off, size = struct.unpack_from(">qq", d, pos); pos += 16
    if off == -1 and size == -1: break
    assert 0 < size <= mx and off >= 0, "bad record (%d, %d)" % (off, size)
    recs.append((off, size)); pos += size
assert pos == len(d), "trailing bytes after end marker"
back = sum(1 for a, b in zip(recs, recs[1:]) if b[0] < a[0])
iv = sorted(recs); over = sum(1 for a, b in zip(iv, iv[1:]) if b[0] < a[0] + a[1])
print("%d %d %d" % (len(recs), back, over))
EOF
}

# --- a small real QEMU ELF dump: known blob at 1 MiB ---
blob=$TMP/blob
{
	head -c $((16 * 4096)) /dev/urandom
	head -c $((8 * 4096)) /dev/zero
	for i in $(seq 1 700); do printf 'wdt kdump test line %04d\n' "$i"; done | head -c $((4 * 4096))
	head -c 3000 /dev/urandom   # ends mid-page
} >"$blob"
sock=$TMP/qmp.sock
qemu-system-x86_64 -S -machine q35 -m 64M -display none -nodefaults \
	-qmp "unix:$sock,server=on,wait=off" \
	-device "loader,file=$blob,addr=0x100000,force-raw=on" 2>"$TMP/qemu.err" &
qpid=$!
trap 'kill $qpid 2>/dev/null; rm -rf "$TMP"' EXIT
elf=$TMP/vm.elf
if python3 "$TOP/tools/qmp.py" "$sock" \
	dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$elf\"}" \
	dump-guest-memory "{\"paging\":false,\"protocol\":\"file:$TMP/qemu.kflat\",\"format\":\"kdump-zlib\"}" \
	quit >/dev/null; then ok "QEMU wrote ELF and kdump-zlib dumps"
else not_ok "QEMU dumps"; cat "$TMP/qemu.err"; done_testing; exit 1; fi
wait $qpid 2>/dev/null
check "the ELF holds the blob at 1 MiB" $PY -c "
import sys; d = open('$elf','rb').read(); b = open('$blob','rb').read()
sys.exit(0 if d.count(b[:65536]) == 1 else 1)"

# --- every codec, read back by libkdumpfile ---
for c in zlib lzo snappy zstd none; do
	if "$MKKDUMP" --codec $c "$elf" "$TMP/k.$c" 2>"$TMP/err"; then
		check "codec $c: libkdumpfile reads every page as in the ELF" \
			pagecheck "$elf" "$TMP/k.$c" $c
	else not_ok "mkkdump --codec $c: $(cat "$TMP/err")"; fi
done
cmpsz() { [ "$(stat -c %s "$1")" -lt "$(stat -c %s "$2")" ]; }
check "zlib output is smaller than uncompressed" cmpsz "$TMP/k.zlib" "$TMP/k.none"
"$MKKDUMP" --exclude-zero "$elf" "$TMP/k.xz"
check "--exclude-zero: zero pages absent, others equal" pagecheck "$elf" "$TMP/k.xz" exclude-zero
for v in 5 4; do
	"$MKKDUMP" --header-version $v --codec lzo "$elf" "$TMP/k.v$v"
	check "header version $v readable by libkdumpfile" pagecheck "$elf" "$TMP/k.v$v" lzo
done

# --- flattened: makedumpfile -R must give the non-flattened bytes ---
"$MKKDUMP" --flat "$elf" "$TMP/f.zlib"
makedumpfile -R "$TMP/r.zlib" <"$TMP/f.zlib" >/dev/null 2>&1
check "--flat | makedumpfile -R == non-flattened" cmp "$TMP/r.zlib" "$TMP/k.zlib"
read -r n back over < <(flatcheck "$TMP/f.zlib" 16384)
check "--flat: $n records of <= 16 KiB" [ "${n:-0}" -ge $(($(stat -c %s "$TMP/f.zlib") / 16384)) ]
"$MKKDUMP" --flat --scramble --split-records 1000 --codec snappy "$elf" "$TMP/f.sn"
makedumpfile -R "$TMP/r.sn" <"$TMP/f.sn" >/dev/null 2>&1
check "--flat --scramble --split-records 1000 | makedumpfile -R == non-flattened" \
	cmp "$TMP/r.sn" "$TMP/k.snappy"
read -r n back over < <(flatcheck "$TMP/f.sn" 1000)
check "scrambled stream: $n records <= 1000 B, $back out of order, $over overlapping" \
	[ "${n:-0}" -gt 1000 ] && [ "${back:-0}" -gt 10 ] && [ "${over:-0}" -gt 0 ]

"$MKKDUMP" --exclude-zero --codec zstd "$elf" "$TMP/k.xzz"
"$MKKDUMP" --flat --scramble --exclude-zero --codec zstd "$elf" "$TMP/f.xzz"
makedumpfile -R "$TMP/r.xzz" <"$TMP/f.xzz" >/dev/null 2>&1
check "--flat --scramble --exclude-zero --codec zstd | makedumpfile -R == non-flattened" \
	cmp "$TMP/r.xzz" "$TMP/k.xzz"

# --- QEMU's own kdump-zlib (flattened) ---
makedumpfile -R "$TMP/qemu.kdump" <"$TMP/qemu.kflat" >/dev/null 2>&1
check "QEMU kdump-zlib, rearranged, reads as the ELF" pagecheck "$elf" "$TMP/qemu.kdump" zlib
check "mkkdump zlib output is byte-identical to QEMU's (same zlib)" \
	cmp "$TMP/qemu.kdump" "$TMP/k.zlib"

# --- memory does not grow with the image (64 MiB of RAM here) ---
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f %M -o "$TMP/rss" "$MKKDUMP" --codec zstd "$elf" "$TMP/k.rss"
	check "peak RSS $(cat "$TMP/rss") KiB < 24 MiB for a 64 MiB image" [ "$(cat "$TMP/rss")" -lt 24576 ]
fi

# --- bad input: one line naming the file, exit 3; nothing left behind ---
printf 'not an elf at all, just text........................................' >"$TMP/bad"
expect_exit 3 "non-ELF input rejected" "$MKKDUMP" "$TMP/bad" "$TMP/o1"
check "  message names the file" grep -q "$TMP/bad: not an ELF" <<<"$ERR"
check "  one line" [ "$(wc -l <<<"$ERR")" -eq 1 ]
head -c 300 "$elf" >"$TMP/trunc.elf"
expect_exit 3 "ELF cut inside the program headers rejected" "$MKKDUMP" "$TMP/trunc.elf" "$TMP/o2"
head -c $((0x200000)) "$elf" >"$TMP/trunc2.elf"
expect_exit 3 "ELF cut inside a segment rejected" "$MKKDUMP" "$TMP/trunc2.elf" "$TMP/o3"
check "  message says past end of file" grep -q "past end of file" <<<"$ERR"
check "no output or temp file left behind" [ -z "$(ls -A "$TMP" | grep -e '^o[123]$' -e mkkdump)" ]
expect_exit 2 "existing output refused without --force" "$MKKDUMP" "$elf" "$TMP/k.zlib"
expect_exit 2 "unknown codec refused" "$MKKDUMP" --codec lz4 "$elf" "$TMP/o4"
done_testing
