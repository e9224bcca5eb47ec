#!/bin/bash
# wdt info / wdt read on ELF cores written by real QEMU: a 4 GiB q35 guest
# (RAM below and above 4 GiB; ELF64 with EM_386 because CPU 0 is in real
# mode) and a 256 MiB pc guest, with known bytes preloaded at physical
# addresses by -device loader. QEMU 7.2 never writes ELFCLASS32 for pc/q35:
# its BIOS ROM block ends exactly at 4 GiB, which it counts as "above 4G";
# ELF32 is covered by the crafted cores of the unit tests.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 readelf

head -c 65536 /dev/urandom >"$TMP/low.bin"
head -c 12288 /dev/urandom >"$TMP/high.bin"
LOW=0x200000 HIGH=0x140001000

# --- 256 MiB pc (first: a small dump, so a broken wdt is noticed early) ---
check "QEMU writes a 256 MiB pc ELF dump" qemu_dump "$TMP/pc.elf" elf \
	-machine pc -m 256M -device loader,file="$TMP/low.bin",addr=$LOW,force-raw=on
expect_exit 0 "wdt info --json on the pc dump" "$WDT" info --json "$TMP/pc.elf"
printf '%s\n' "$OUT" >"$TMP/pc.json"
check "pc RAM run is [1 MiB, 256 MiB)" test "$(json_get "$TMP/pc.json" '[r["end"] for r in d["memory"]["runs"] if r["start"]=="0x0000000000100000"][0]')" = 0x000000000fffffff
check "one CPU with QEMU state" test "$(json_get "$TMP/pc.json" 'd["cpus"][0]["source"]')" = "QEMU note"
"$WDT" read --raw "$TMP/pc.elf" $LOW 65536 >"$TMP/lowpc.out"
check "pc: bytes read back" cmp -s "$TMP/low.bin" "$TMP/lowpc.out"
check "argv[0] dispatch: wdt-info" bash -c "ln -s '$WDT' '$TMP/wdt-info' && '$TMP/wdt-info' --json '$TMP/pc.elf' >/dev/null"

rm -f "$TMP/pc.elf"

# --- 4 GiB q35 ---
check "QEMU writes a 4 GiB q35 ELF dump" qemu_dump "$TMP/q35.elf" elf \
	-machine q35 -m 4G \
	-device loader,file="$TMP/low.bin",addr=$LOW,force-raw=on \
	-device loader,file="$TMP/high.bin",addr=$HIGH,force-raw=on

expect_exit 0 "wdt info --json on the q35 dump" "$WDT" info --json "$TMP/q35.elf"
printf '%s\n' "$OUT" >"$TMP/q35.json"
check "JSON output parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/q35.json"
check "format is elf, variant ELF64 EM_386" \
	test "$(json_get "$TMP/q35.json" 'd["format"] + "|" + d["variant"]')" = \
	"elf|ELF64 core, EM_386 (CPU 0 was not in long mode)"

# The runs must be exactly the PT_LOADs binutils sees (independent parser).
readelf -W -l "$TMP/q35.elf" | awk '$1=="LOAD"{printf "%s %s\n", $4, $5}' |
	python3 -c 'import sys; [print("0x%016x-0x%016x" % (int(a,16), int(a,16)+int(s,16)-1)) for a,s in (l.split() for l in sys.stdin)]' |
	sort >"$TMP/readelf.runs"
json_get "$TMP/q35.json" '"\n".join(r["start"]+"-"+r["end"] for r in d["memory"]["runs"])' | sort >"$TMP/wdt.runs"
check "runs equal readelf's PT_LOADs" cmp -s "$TMP/readelf.runs" "$TMP/wdt.runs"
check "RAM below 4 GiB ends at 2 GiB (q35 split)" grep -qx '0x0000000000100000-0x000000007fffffff' "$TMP/wdt.runs"
check "RAM above 4 GiB: 0x100000000-0x17fffffff" grep -qx '0x0000000100000000-0x000000017fffffff' "$TMP/wdt.runs"
check "total is at least 4 GiB" test "$(json_get "$TMP/q35.json" 'd["memory"]["total"] >= 4<<30')" = True

# Preloaded bytes read back at their physical addresses.
"$WDT" read --raw "$TMP/q35.elf" $LOW 65536 >"$TMP/low.out"
check "bytes below 4 GiB read back" cmp -s "$TMP/low.bin" "$TMP/low.out"
"$WDT" read --raw "$TMP/q35.elf" $HIGH 12288 >"$TMP/high.out"
check "bytes above 4 GiB read back" cmp -s "$TMP/high.bin" "$TMP/high.out"
expect_exit 3 "read across the PCI hole is refused" "$WDT" read "$TMP/q35.elf" 0x7ffffff0 32
check "  ... naming the first missing address" grep -q 'physical address 0x80000000 is not in the image' <<<"$ERR"

# CPU state equals QEMU's own 'info registers'.
cpu() { json_get "$TMP/q35.json" "int(d['cpus'][0]$1, 16)"; }
hmp() { python3 - "$TMP/q35.elf.regs" "$1" <<'PY'
import json, re, sys
text = json.loads(open(sys.argv[1]).read().strip())
m = re.search(r'(?<![A-Z])' + sys.argv[2] + r'=([0-9a-f]+)', text)
print(int(m.group(1), 16))
PY
}
check "RIP equals QEMU's EIP" test "$(cpu "['rip']")" = "$(hmp EIP)"
check "CR0 equals QEMU's" test "$(cpu "['cr0']")" = "$(hmp CR0)"
check "CS base equals QEMU's" test "$(json_get "$TMP/q35.json" "int([s for s in d['cpus'][0]['segments'] if s['name']=='cs'][0]['base'],16)")" = \
	"$(python3 -c 'import json,re,sys; t=json.loads(open(sys.argv[1]).read()); print(int(re.search(r"CS =[0-9a-f]+ ([0-9a-f]+)", t).group(1),16))' "$TMP/q35.elf.regs")"

expect_exit 0 "human output" "$WDT" info "$TMP/q35.elf"
check "human output lists both big runs" grep -q '0x0000000100000000  0x000000017fffffff' <<<"$OUT"
check "human output shows CR0 aligned" grep -Eq '^    CR0: +0x0000000060000010$' <<<"$OUT"
rm -f "$TMP/q35.elf"

done_testing
