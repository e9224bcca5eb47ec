#!/bin/sh
# Build the symbols-layer test inputs with a real Windows toolchain:
#   OUT/wdttest.dll, OUT/wdttest.pdb   clang (msvc target) + lld-link
#   OUT/publics.txt   "name rva" per S_PUB32, from llvm-pdbutil + section VAs
#   OUT/exports.txt   "name rva" per named export, from llvm-readobj
#   OUT/rsds.txt      "guid-bytes-hex age pdbname", from llvm-readobj
# Struct member offsets are computed by the Windows-target compiler itself
# (offsetof) into the exported table wdt_expected; tests read it back
# through the PE reader. Usage: tools/mkpdb-test.sh OUTDIR
set -eu
out=${1:?usage: $0 OUTDIR}
for t in clang lld-link llvm-pdbutil llvm-readobj; do
	command -v "$t" >/dev/null 2>&1 || { echo "mkpdb-test: $t not found (apt-get install clang lld llvm)" >&2; exit 77; }
done
mkdir -p "$out"
tmp=$(mktemp -d "$out/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/wdttest.c" <<'EOF'
#include <stddef.h>
typedef unsigned long long u64;

/* _LATER is used through a pointer before it is defined: the PDB then
 * holds a forward reference that readers must resolve by name. */
struct _LATER;
struct _NODE { struct _NODE *next; struct _LATER *later; int v; };
struct _LATER { char c; u64 q; };
struct _INNER { unsigned short a; unsigned int b; };
struct _OUTER {
	char tag;
	struct _INNER inner;
	union { unsigned int u32; unsigned char bytes[8]; };
	struct { unsigned short lo, hi; };
	unsigned int flag1 : 3;
	unsigned int flag2 : 5;
	struct _INNER arr[3];
	void *ptr;
	const volatile u64 cv;
	struct _LATER later;
};
/* Offsets and sizes past 0x8000, 0x10000 and 4 GiB need numeric leaves. */
struct _BIG { char pad[0x9000]; unsigned int after; char pad2[0x10000]; unsigned int far; };
struct _HUGE { char pad[0x100000000ULL]; int x; };

__declspec(dllexport) struct _NODE gNode;
__declspec(dllexport) struct _LATER gLater;
__declspec(dllexport) struct _OUTER gOuter;
__declspec(dllexport) struct _BIG *gBig;
__declspec(dllexport) struct _HUGE *gHuge;
__declspec(dllexport) int KeFunction(int x) { return x + gNode.v; }
/* A function with a frame and a call: its unwind entry (.pdata) gives
 * its extent to wdt_pe_function_range. */
int NotExported(int x);
__declspec(dllexport) int KeBugCheckEx(int x)
{
	volatile char buf[64];
	buf[0] = (char)x;
	return NotExported(buf[0]) + 1;
}
static int helper(int x) { return x * 3; }
int NotExported(int x) { return helper(x) + 1; }

struct wdt_expect { char type[32]; char member[32]; u64 offset; u64 size; };
#define E(S, M) { #S, #M, offsetof(struct S, M), sizeof(struct S) }
__declspec(dllexport) const struct wdt_expect wdt_expected[] = {
	E(_NODE, next), E(_NODE, later), E(_NODE, v),
	E(_LATER, c), E(_LATER, q),
	E(_INNER, a), E(_INNER, b),
	E(_OUTER, tag), E(_OUTER, inner), E(_OUTER, inner.a), E(_OUTER, inner.b),
	E(_OUTER, u32), E(_OUTER, bytes), E(_OUTER, lo), E(_OUTER, hi),
	E(_OUTER, arr), E(_OUTER, ptr), E(_OUTER, cv),
	E(_OUTER, later), E(_OUTER, later.q),
	E(_BIG, pad), E(_BIG, after), E(_BIG, pad2), E(_BIG, far),
	E(_HUGE, pad), E(_HUGE, x),
};
__declspec(dllexport) const unsigned int wdt_expected_count =
	sizeof(wdt_expected) / sizeof(wdt_expected[0]);

int __stdcall DllMain(void *a, unsigned b, void *c)
{
	(void)a; (void)b; (void)c;
	return NotExported(1) + (gHuge != 0) + (gBig != 0);
}
EOF

clang --target=x86_64-pc-windows-msvc -g -gcodeview -ffreestanding -funwind-tables -O0 \
	-c "$tmp/wdttest.c" -o "$tmp/wdttest.obj"
lld-link /NOLOGO /DEBUG /PDBALTPATH:wdttest.pdb /NODEFAULTLIB /ENTRY:DllMain \
	/SUBSYSTEM:NATIVE /DLL /EXPORT:FwdThing=other.RealThing \
	/OUT:"$tmp/wdttest.dll" /PDB:"$tmp/wdttest.pdb" "$tmp/wdttest.obj" >/dev/null

# Section number -> VirtualAddress, then "name seg:off" (decimal) -> RVA.
llvm-readobj --sections "$tmp/wdttest.dll" | awk '
	/Number:/ { n = $2 }
	/VirtualAddress:/ { print n, $2 }' >"$tmp/sections.txt"
llvm-pdbutil dump -publics "$tmp/wdttest.pdb" | awk '
	function hex(s,   i, v) {
		v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	NR == FNR { va[$1] = hex($2); next }
	/S_PUB32/ { match($0, /`[^`]*`/); name = substr($0, RSTART + 1, RLENGTH - 2) }
	/addr = / { split($NF, a, ":"); printf "%s 0x%x\n", name, va[a[1] + 0] + a[2] }
' "$tmp/sections.txt" - | sort >"$tmp/publics.txt"
llvm-readobj --coff-exports "$tmp/wdttest.dll" | awk '
	/Name:/ { name = $2 }
	/RVA:/ { if (name != "") print name, $2; name = "" }' | sort >"$tmp/exports.txt"
llvm-readobj --coff-debug-directory "$tmp/wdttest.dll" | awk '
	/PDBGUID:/ { g = $0; sub(/.*\(/, "", g); sub(/\).*/, "", g); gsub(/ /, "", g) }
	/PDBAge:/ { age = $2 }
	/PDBFileName:/ { name = $2 }
	END { print g, age, name }' >"$tmp/rsds.txt"
[ -s "$tmp/publics.txt" ] && [ -s "$tmp/exports.txt" ] && [ -s "$tmp/rsds.txt" ] || {
	echo "mkpdb-test: could not parse llvm tool output" >&2; exit 1; }
for f in wdttest.dll wdttest.pdb publics.txt exports.txt rsds.txt wdttest.c; do
	mv -f "$tmp/$f" "$out/$f"
done
