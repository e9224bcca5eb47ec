#!/bin/bash
# mkbad (tools/mkbad.py + tools/mkbad.cases) self-check: the valid bases are
# valid by independent tools (mkkdump, libkdumpfile through ctypes,
# makedumpfile -R, a DMP rule checker written here); every case differs from
# its base only where its edits say; and every case breaks what its
# "expect" line says it breaks, seen by those same independent tools.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3   # Debian's: has libkdumpfile; also starts fastest
[ -x $PY ] || PY=python3
MKBAD=${MKBAD:-"$PY $TOP/tools/mkbad.py"}
MKKDUMP=${MKKDUMP:-${BUILD:-$TOP/build/rel}/tools/mkkdump}
[ -x "$MKKDUMP" ] || { not_ok "mkkdump built at $MKKDUMP"; done_testing; exit 1; }
command -v makedumpfile >/dev/null || skip_all "makedumpfile not installed"
$PY -c 'import ctypes; ctypes.CDLL("libkdumpfile.so.10")' 2>/dev/null ||
	skip_all "libkdumpfile10 not installed"

# kdread FILE [ELF]: open FILE with libkdumpfile (C API via ctypes: the
# Python binding itself crashes on some open errors) and read every PFN of
# the ELF's PT_LOADs (default: mkbad's runs), comparing with the ELF when
# given. Exit 0 all read (and equal), 1 rejected with a message, 2 differs.
kdread() {
	$PY - "$@" <<'EOF'
import ctypes, os, struct, sys
L = ctypes.CDLL("libkdumpfile.so.10")
L.kdump_new.restype = ctypes.c_void_p
L.kdump_get_err.restype = ctypes.c_char_p
L.kdump_get_err.argtypes = [ctypes.c_void_p]
L.kdump_open_fdset.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
L.kdump_read.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64,
                         ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
MACHPHYS = 1
want = {}
if len(sys.argv) > 2 and sys.argv[2]:
    e = open(sys.argv[2], "rb").read()
    phoff, = struct.unpack_from("<Q", e, 0x20); phent, phnum = struct.unpack_from("<HH", e, 0x36)
    for i in range(phnum):
        t, _, off, _, pa, fs = struct.unpack_from("<IIQQQQ", e, phoff + i * phent)
        if t == 1:
            for k in range(fs // 4096):
                want[pa // 4096 + k] = e[off + k * 4096:off + (k + 1) * 4096]
else:
    want = {p: None for p in [0, 1, 2, 3, 0x100, 0x101, 0x102, 0x103]}
ctx = L.kdump_new()
fds = (ctypes.c_int * 1)(os.open(sys.argv[1], os.O_RDONLY))
if L.kdump_open_fdset(ctx, 1, fds):
    print("open: " + L.kdump_get_err(ctx).decode()); sys.exit(1)
buf = ctypes.create_string_buffer(4096)
for pfn in sorted(want):
    n = ctypes.c_size_t(4096)
    if L.kdump_read(ctx, MACHPHYS, pfn * 4096, buf, ctypes.byref(n)):
        print("PFN %#x: %s" % (pfn, L.kdump_get_err(ctx).decode())); sys.exit(1)
    if len(sys.argv) > 3 and pfn == int(sys.argv[3], 0):
        print(buf.raw[:4].hex())
    if want[pfn] is not None and buf.raw != want[pfn]:
        print("PFN %#x differs" % pfn); sys.exit(2)
EOF
}

# dmpcheck FILE: prints the DMP64 rules (dmp64.md §2-§7) FILE breaks:
# truncated signature dumptype runs pages size bitmap; nothing when sound.
dmpcheck() {
	$PY - "$@" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read(); bad = set()
if len(d) < 0x2000:
    print("truncated"); sys.exit(0)
if d[0:4] != b"PAGE" or d[4:8] != b"DU64": bad.add("signature")
dt, = struct.unpack_from("<I", d, 0xF98); req, = struct.unpack_from("<q", d, 0xFA0)
if dt == 1:
    nruns, npages = struct.unpack_from("<I4xQ", d, 0x88)
    if nruns > 42: bad.add("runs"); nruns = 0
    runs = [struct.unpack_from("<QQ", d, 0x98 + 16 * i) for i in range(nruns)]
    if any(b[0] < a[0] + a[1] for a, b in zip(runs, runs[1:])): bad.add("runs")
    if npages != sum(n for _, n in runs): bad.add("pages")
    if req != len(d) or len(d) < 0x2000 + 4096 * sum(n for _, n in runs): bad.add("size")
elif dt in (5, 6):
    if len(d) < 0x2038: bad.add("bitmap")
    else:
        sig, first, present, bits = d[0x2000:0x2008], *struct.unpack_from("<QQQ", d, 0x2020)
        if sig not in (b"FDMPDUMP", b"SDMPDUMP") or first % 4096 or \
           bits > (first - 0x2038) * 8 or first > len(d):
            bad.add("bitmap")
        else:
            pop = sum(bin(b).count("1") for b in d[0x2038:0x2038 + (bits + 7) // 8])
            if pop != present: bad.add("bitmap")
            if req != len(d) or len(d) < first + 4096 * present: bad.add("size")
else:
    bad.add("dumptype")
print(" ".join(sorted(bad)))
EOF
}

# onlywhere BASE CASE EDITS_JSON: CASE equals BASE except inside the
# declared changed/inserted ranges, has the declared size, and each
# declared change really changes something.
onlywhere() {
	$PY - "$@" <<'EOF'
import json, sys
b = open(sys.argv[1], "rb").read(); c = open(sys.argv[2], "rb").read()
e = json.loads(sys.argv[3])
if len(c) != e["size"]: sys.exit("size %d, declared %d" % (len(c), e["size"]))
ins = sorted(e["inserted"]); inside = lambda i, rs: any(p <= i < p + n for p, n in rs)
# map case positions to base positions by skipping inserted bytes
bmap, shift = [], 0
for i in range(len(c)):
    if inside(i, ins): bmap.append(None); shift += 1
    else: bmap.append(i - shift)
for i, j in enumerate(bmap):
    if j is not None and j < len(b) and c[i] != b[j] and not inside(i, e["changed"]):
        sys.exit("byte %#x differs outside the declared edits" % i)
for p, n in e["changed"]:
    if n and all(bmap[i] is not None and bmap[i] < len(b) and c[i] == b[bmap[i]] for i in range(p, p + n)):
        sys.exit("declared change at %#x+%#x changes nothing" % (p, n))
if not e["changed"] and not ins and len(c) == len(b) and b:
    sys.exit("case is identical to its base")
EOF
}

# ---- the list ----
$MKBAD --list >"$TMP/list" 2>"$TMP/err"
check "--list: $(wc -l <"$TMP/list") cases, each with a description" \
	awk 'NF < 3 { exit 1 } END { exit NR < 40 }' "$TMP/list"
check "--list names are unique" [ -z "$(awk '{print $1}' "$TMP/list" | sort | uniq -d)" ]
for want in elf-trunc-ehdr elf-trunc-phdr elf-trunc-segment elf-bad-class elf-bad-data \
	elf-bad-machine elf-load-past-eof elf-overlap elf-huge-filesz elf-phnum-huge \
	elf-xnum-no-shdr elf-note-namesz-lie elf-note-descsz-lie elf-empty \
	kdump-trunc-header kdump-block-size-0 kdump-block-size-3 kdump-block-size-1g \
	kdump-max-mapnr-huge kdump-bitmap-small kdump-desc-outside kdump-desc-size-big \
	kdump-corrupt-data flat-negative-offset flat-past-eof flat-no-end flat-loop \
	flat-overlap dmp-bad-signature dmp-trunc-header dmp-runs-unsorted dmp-runs-overlap \
	dmp-runs-over-capacity dmp-pages-mismatch dmp-required-space dmp-bitmap-popcount; do
	grep -q "^$want " "$TMP/list" || missing="${missing-} $want"
done
check "every case the brief asks for is listed${missing:+ (missing:$missing)}" [ -z "${missing-}" ]

# ---- the bases are valid ----
for b in elf elf32 elf-xnum kdump kdump-flat dmp dmp-bitmap empty; do
	$MKBAD $b "$TMP/base.$b" || not_ok "mkbad $b"
done
check "base empty is empty" [ ! -s "$TMP/base.empty" ]
for b in elf elf32 elf-xnum; do
	check "base $b: mkkdump converts it" "$MKKDUMP" "$TMP/base.$b" "$TMP/base.$b.kd"
done
check "base elf: mkkdump's kdump reads back equal through libkdumpfile" \
	kdread "$TMP/base.elf.kd" "$TMP/base.elf"
check "bases elf32 and elf-xnum hold the same memory as elf" \
	cmp "$TMP/base.elf.kd" "$TMP/base.elf32.kd"
check "base kdump (Python writer) == mkkdump of base elf (C writer)" \
	cmp "$TMP/base.kdump" "$TMP/base.elf.kd"
check "base kdump reads back equal to base elf through libkdumpfile" \
	kdread "$TMP/base.kdump" "$TMP/base.elf"
makedumpfile -R "$TMP/base.flat.r" <"$TMP/base.kdump-flat" >/dev/null 2>&1
check "base kdump-flat | makedumpfile -R == base kdump" cmp "$TMP/base.flat.r" "$TMP/base.kdump"
for b in dmp dmp-bitmap; do
	r=$(dmpcheck "$TMP/base.$b")
	check "base $b breaks no DMP rule${r:+ (breaks: $r)}" [ -z "$r" ]
done
samemem() {
	$PY - "$@" <<'EOF'
import struct, sys
e = open(sys.argv[1], "rb").read(); d = open(sys.argv[2], "rb").read(); first = int(sys.argv[3], 0)
phoff, = struct.unpack_from("<Q", e, 0x20); phnum, = struct.unpack_from("<H", e, 0x38)
mem = b""
for i in range(phnum):
    t, _, off, _, pa, fs = struct.unpack_from("<IIQQQQ", e, phoff + 56 * i)
    if t == 1: mem += e[off:off + fs]
sys.exit(0 if d[first:] == mem else 1)
EOF
}
check "base dmp pages equal base elf memory" samemem "$TMP/base.elf" "$TMP/base.dmp" 0x2000
check "base dmp-bitmap pages equal base elf memory" samemem "$TMP/base.elf" "$TMP/base.dmp-bitmap" 0x3000

# ---- every case: only the intended bytes differ; the expected breakage ----
while read -r name _; do
	$MKBAD "$name" "$TMP/c" 2>"$TMP/err" || { not_ok "$name: mkbad failed: $(cat "$TMP/err")"; continue; }
	edits=$($MKBAD --edits "$name")
	{ read -r base; read -r exp; } < <($PY -c 'import json,sys
e = json.loads(sys.argv[1]); print(e["base"]); print(e["expect"])' "$edits")
	[ -f "$TMP/base.$base" ] || $MKBAD "$base" "$TMP/base.$base"
	if msg=$(onlywhere "$TMP/base.$base" "$TMP/c" "$edits" 2>&1); then :; else
		not_ok "$name: differs from base $base only where intended: $msg"; continue; fi
	size=$(stat -c %s "$TMP/c")
	[ "$size" -le 65536 ] || { not_ok "$name: $size bytes, want small"; continue; }
	why=""
	for kv in $exp; do
		k=${kv%%=*} v=${kv#*=}
		case $k in
		mkkdump)
			rm -f "$TMP/c.kd"
			"$MKKDUMP" "$TMP/c" "$TMP/c.kd" 2>"$TMP/err"; rc=$?
			[ $rc -eq "$v" ] || why="$why mkkdump exit $rc not $v;"
			if [ "$v" -ne 0 ] && { [ "$(wc -l <"$TMP/err")" -ne 1 ] ||
				! grep -q "$TMP/c:" "$TMP/err"; }; then
				why="$why mkkdump error not one line naming the file;"; fi ;;
		libkdumpfile)
			f="$TMP/c"; [ -f "$TMP/c.r" ] && f="$TMP/c.r"
			out=$(kdread "$f" 2>&1); rc=$?
			if [ "$v" = ok ] && [ $rc -ne 0 ]; then why="$why libkdumpfile: $out;"; fi
			if [ "$v" = reject ] && [ $rc -eq 0 ]; then why="$why libkdumpfile read it all;"; fi
			[ $rc -ge 128 ] && echo "# $name: libkdumpfile 0.5.1 killed by signal $((rc - 128))" ;;
		makedumpfile)
			rm -f "$TMP/c.r"
			timeout 3 makedumpfile -R "$TMP/c.r" <"$TMP/c" >/dev/null 2>&1; rc=$?
			[ $rc -eq 124 ] && echo "# $name: makedumpfile -R hangs (killed after 3 s)"
			if [ "$v" = ok ] && [ $rc -ne 0 ]; then why="$why makedumpfile -R failed;"; fi
			if [ "$v" = fail ] && [ $rc -eq 0 ]; then why="$why makedumpfile -R accepted it;"; fi ;;
		pfn*)
			got=$(kdread "$TMP/c.r" "" "${k#pfn}" 2>/dev/null | tail -1)
			[ "$got" = "$v$v$v$v" ] || why="$why PFN ${k#pfn} starts $got not $v;" ;;
		dmp)
			r=$(dmpcheck "$TMP/c")
			[[ " $r " == *" $v "* ]] || why="$why DMP checker says '$r' not $v;" ;;
		*) why="$why unknown expectation $k;" ;;
		esac
	done
	rm -f "$TMP/c.r"
	if [ -z "$exp" ]; then not_ok "$name: no expect line"
	elif [ -z "$why" ]; then ok "$name ($exp)"; else not_ok "$name:$why"; fi
done <"$TMP/list"

# ---- recipes and errors ----
$MKBAD --recipe 'kdump; set u32 DH_BLOCK_SIZE = 3' "$TMP/r1"
$MKBAD kdump-block-size-3 "$TMP/r2"
check "--recipe builds the same bytes as the named case" cmp "$TMP/r1" "$TMP/r2"
expect_exit 3 "unknown case rejected" $MKBAD no-such-case "$TMP/x"
check "  one line naming the case" [ "$ERR" = "mkbad: no-such-case: no such case (see --list)" ]
printf 'case x: bad\n\tbase elf\n\tset u32 nosuch = 1\n' >"$TMP/spec"
expect_exit 3 "unknown symbol in a spec rejected" $MKBAD --spec "$TMP/spec" x "$TMP/x"
check "  message names spec file and line" grep -q "$TMP/spec:3: x: unknown symbol 'nosuch'" <<<"$ERR"
expect_exit 3 "edit outside the file rejected" $MKBAD --recipe 'elf; set u64 1 << 20 = 0' "$TMP/x"
check "no output left by failures" [ ! -e "$TMP/x" ]
done_testing
