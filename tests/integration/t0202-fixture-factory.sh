#!/bin/bash
# The fixture factory itself: deterministic per seed, rejects bad parameters
# with one line, caches by key, builds a 256 MiB guest and all its dumps in
# under 30 s, and its checker notices a lying truth.json.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip_all "qemu-system-x86_64 not installed"
command -v lld-link >/dev/null 2>&1 || skip_all "lld-link not installed"
MK=${MKGUEST:-$TOP/tools/mkguest}
FIXTURE_CHECK=${FIXTURE_CHECK:-$TOP/tools/fixture-check}
differ() { ! cmp -s "$1" "$2"; }

# Determinism: same seed, same bytes; another seed, other bytes.
"$MK" --seed 11 --ram 64M --cpus 2 --build 19041 --out "$TMP/a" &&
"$MK" --seed 11 --ram 64M --cpus 2 --build 19041 --out "$TMP/b" &&
"$MK" --seed 12 --ram 64M --cpus 2 --build 19041 --out "$TMP/c"
check "mkguest builds three small guests" [ $? -eq 0 ]
for f in ram.img bios.bin truth.json guest.json; do
	check "same seed, identical $f" cmp -s "$TMP/a/$f" "$TMP/b/$f"
done
check "another seed, different ram.img" differ "$TMP/a/ram.img" "$TMP/c/ram.img"
kb() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(t["kernel"]["base_va"], t["dtb"], t["self_map_index"])' "$1"; }
check "another seed, other kernel base/DTB/self-map" [ "$(kb "$TMP/a/truth.json")" != "$(kb "$TMP/c/truth.json")" ]

# Bad parameters: one line naming the problem, nonzero exit.
expect_exit 1 "unknown build rejected" "$MK" --build 1234 --out "$TMP/x"
check "message names the build and the supported ones" grep -q "1234.*19041" "$TMP/err"
check "one line" [ "$(wc -l <"$TMP/err")" -eq 1 ]
expect_exit 1 "KVA shadow on a build without KernelDirectoryTableBase rejected" \
	"$MK" --build 7601 --kva-shadow --out "$TMP/x"
expect_exit 1 "too many CPUs rejected" "$MK" --cpus 65 --out "$TMP/x"
expect_exit 2 "bad RAM size rejected" "$MK" --ram 12Q --out "$TMP/x"
expect_exit 1 "unknown fixture name rejected" "$TOP/tools/fixtures.sh" nosuch
check "message lists the known names" grep -q "basic" "$TMP/err"

# From nothing to all dumps, 256 MiB, 1 CPU: under 30 s (fresh cache dir;
# the fake kernel cache is shared, as a tool change rebuilds it anyway).
start=$(date +%s%N)
dir=$(WDT_FIXTURES=$TMP/fx "$TOP/tools/fixtures.sh" basic 2>"$TMP/err")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "cold build of basic succeeds" [ $rc -eq 0 ]
check "cold build of basic takes < 30 s (took ${ms} ms)" [ $ms -lt 30000 ]
for f in dump.elf dump.kdump-zlib.flat dump.kdump-zlib dump.raw truth.json \
	symbols/ntkrnlmp.pdb symbols/ntoskrnl.exe; do
	check "basic has $f" [ -e "$dir/$f" ]
done
stamp=$(stat -c %Y "$dir/.key")
sleep 1
dir2=$(WDT_FIXTURES=$TMP/fx "$TOP/tools/fixtures.sh" basic)
check "unchanged factory: fixture reused" [ "$dir2" = "$dir" ] && [ "$(stat -c %Y "$dir/.key")" = "$stamp" ]

# The checker is not a rubber stamp: a lying truth.json fails it.
mkdir -p "$TMP/liar"
for f in "$dir"/* "$dir"/.key; do ln -s "$f" "$TMP/liar/"; done
rm "$TMP/liar/truth.json"
python3 - "$dir/truth.json" "$TMP/liar/truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["kdbg"]["ki_wait_always"] = hex(int(t["kdbg"]["ki_wait_always"], 16) ^ 0x100)
t["cpus"][0]["gpr"]["rbx"] = hex(int(t["cpus"][0]["gpr"]["rbx"], 16) + 1)
t["symbols"]["KiWaitNever"]["rva"] = hex(int(t["symbols"]["KiWaitNever"]["rva"], 16) + 8)
json.dump(t, open(sys.argv[2], "w"))
PY
"$FIXTURE_CHECK" "$TMP/liar" >"$TMP/liar.out" 2>&1
check "fixture-check fails on a lying truth.json" [ $? -ne 0 ]
check "it notices the wrong KiWaitAlways" grep -q "^FAIL: KDBG decodes to OwnerTag" "$TMP/liar.out"
check "it notices the wrong register" grep -q "^FAIL: CPU 0: QEMU's registers" "$TMP/liar.out"
check "it notices the wrong symbol RVA" grep -q "^FAIL: llvm-pdbutil public RVAs" "$TMP/liar.out"
done_testing
