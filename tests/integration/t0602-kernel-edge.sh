#!/bin/bash
# find-kernel / kdbg edge cases: images with no Windows fail with the list of
# methods tried; the PML4 scan finds the kernel when the low stub is gone;
# forced --dtb / --kernel-base; PDB options; a destroyed KDBG.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
fixture dir basic
fixture other win81
T=$dir/truth.json
tv() { json_get "$T" "$1"; }

# 1. All zeros: nothing to find; every method named.
truncate -s 64M "$TMP/zeros.raw"
expect_exit 3 "zeros: find-kernel fails" "$WDT" find-kernel "$TMP/zeros.raw"
for m in cpu-cr3 low-stub pml4-scan; do
	check "... message names method $m" grep -q "$m" <<<"$ERR"
done
check "... one line naming the file" test "$(wc -l <<<"$ERR")" -eq 1 -a -n "$(grep -F "$TMP/zeros.raw" <<<"$ERR")"
check "... and suggests --dtb" grep -q -- '--dtb' <<<"$ERR"

# 2. A Linux-like layout: 4-level tables mapping a kernel at
# 0xffffffff81000000 and a direct map, an MZ (EFI stub) header, no self-map,
# no KUSER_SHARED_DATA, and a start block look-alike that is not one.
python3 - "$TMP/linux.raw" <<'PY'
import struct, sys
mem = bytearray(32 << 20)
def q(pa, v): struct.pack_into("<Q", mem, pa, v)
pml4, pdpt_k, pd_k, pdpt_d = 0x100000, 0x101000, 0x102000, 0x103000
q(pml4 + 8 * 511, pdpt_k | 0x63); q(pdpt_k + 8 * 510, pd_k | 0x63)
for i in range(8): q(pd_k + 8 * (8 + i), (0x1000000 + (i << 21)) | 0xE3)
q(pml4 + 8 * 273, pdpt_d | 0x63); q(pdpt_d, 0x0 | 0xE3)      # 1 GiB direct map
mem[0x1000000:0x1000002] = b"MZ"; struct.pack_into("<I", mem, 0x100003C, 0x40)
mem[0x1000040:0x1000044] = b"PE\0\0"
q(0x9000, 0x00000001000600E9)                                  # start-block-like
open(sys.argv[1], "wb").write(mem)
PY
expect_exit 3 "Linux-like layout: find-kernel fails" "$WDT" find-kernel -v "$TMP/linux.raw"
check "... -v lists each method on stderr" test "$(grep -c '^wdt: dtb ' <<<"$ERR")" -ge 4
check "... the PML4 scan saw no Windows directory" grep -q 'pml4-scan.*none maps KUSER_SHARED_DATA' <<<"$ERR"
expect_exit 3 "Linux-like layout: kdbg fails too" "$WDT" kdbg --no-pdb "$TMP/linux.raw"

# 3. No start block: the PML4 scan finds the directory.
cp --sparse=always "$dir/dump.raw" "$TMP/nostub.raw"
stub=$(tv 'int(d["processor_start_block"]["pa"], 16)')
dd if=/dev/zero of="$TMP/nostub.raw" bs=4096 seek=$((stub / 4096)) count=1 conv=notrunc status=none
expect_exit 0 "raw without start block: find-kernel" "$WDT" find-kernel --json --no-pdb "$TMP/nostub.raw"
check "... DTB by pml4-scan equals truth" test "$(json_get <(echo "$OUT") 'd["dtb"]["method"] + " " + hex(int(d["dtb"]["value"], 16))')" = "pml4-scan $(tv 'hex(int(d["dtb"], 16))')"
check "... kernel base equals truth" test "$(json_get <(echo "$OUT") 'int(d["kernel"]["base_va"], 16)')" = "$(tv 'int(d["kernel"]["base_va"], 16)')"

# 4. Forced values.
dtb=$(tv 'd["dtb"]'); base=$(tv 'd["kernel"]["base_va"]')
expect_exit 0 "--dtb with the right value" "$WDT" find-kernel --json --no-pdb --dtb "$dtb" "$dir/dump.raw"
check "... method 'given'" test "$(json_get <(echo "$OUT") 'd["dtb"]["method"]')" = given
expect_exit 3 "--dtb 0x1000 (not a kernel directory)" "$WDT" find-kernel --no-pdb --dtb 0x1000 "$dir/dump.raw"
check "... says it does not map KUSER_SHARED_DATA" grep -q 'KUSER_SHARED_DATA' <<<"$ERR"
wbase=$(python3 -c "v=int('$base',16); print('%x\`%08x' % (v >> 32, v & 0xffffffff))")
expect_exit 0 "--kernel-base in WinDbg form ($wbase)" "$WDT" find-kernel --json --no-pdb --kernel-base "$wbase" "$dir/dump.elf"
check "... method 'given'" test "$(json_get <(echo "$OUT") 'd["kernel"]["method"]')" = given
expect_exit 3 "--kernel-base one page off" "$WDT" find-kernel --no-pdb --kernel-base "$(printf '0x%x' $((base + 4096)))" "$dir/dump.elf"
expect_exit 2 "--kernel-base not a number" "$WDT" find-kernel --kernel-base zz "$dir/dump.elf"

# 5. PDB options.
pdb="$dir/$(tv 'd["kernel"]["pdb_path"]')"
wrong="$other/$(json_get "$other/truth.json" 'd["kernel"]["pdb_path"]')"
expect_exit 0 "--pdb with the matching PDB" "$WDT" kdbg --json --pdb "$pdb" "$dir/dump.elf"
check "... pdb used" test "$(json_get <(echo "$OUT") 'd["kdbg"]["pdb_used"]')" = True
expect_exit 3 "--pdb of another build is refused" "$WDT" kdbg --pdb "$wrong" "$dir/dump.elf"
check "... the error says it does not match" grep -q 'does not match the image' <<<"$ERR"
expect_exit 2 "--no-pdb with --pdb is a usage error" "$WDT" kdbg --no-pdb --pdb "$pdb" "$dir/dump.elf"
expect_exit 2 "--force-pdb without --pdb" "$WDT" kdbg --force-pdb "$dir/dump.elf"
expect_exit 0 "--no-pdb: block by known plaintext" "$WDT" kdbg --json --no-pdb "$dir/dump.elf"
check "... method and note" test "$(json_get <(echo "$OUT") 'd["kdbg"]["method"] + "/" + str(d["kdbg"]["pdb_used"])')" = "known-plaintext/False"

# 6. KDBG destroyed: kernel still found, the block is not, with a clear error.
cp --sparse=always "$dir/dump.raw" "$TMP/nokdbg.raw"
kpa=$(tv 'int(d["kdbg"]["pa"], 16)')
head -c 64 /dev/urandom | dd of="$TMP/nokdbg.raw" bs=1 seek=$((kpa)) conv=notrunc status=none
expect_exit 0 "KDBG header overwritten: find-kernel still works" "$WDT" find-kernel --no-pdb "$TMP/nokdbg.raw"
expect_exit 3 "... kdbg --no-pdb fails" "$WDT" kdbg --no-pdb "$TMP/nokdbg.raw"
check "... naming the method tried" grep -q 'known-plaintext' <<<"$ERR"
expect_exit 3 "... kdbg with the PDB fails too (the block does not decode)" "$WDT" kdbg --pdb "$pdb" "$TMP/nokdbg.raw"
check "... saying so" grep -q 'does not decode' <<<"$ERR"

# 7. --raw refuses a terminal-less conflict.
expect_exit 2 "--raw with --json" "$WDT" kdbg --raw --json "$dir/dump.elf"
done_testing
