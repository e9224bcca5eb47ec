#!/bin/bash
# make demo: the main job on a generated sample image. The fixture factory
# builds a small Windows-like guest (fake ntoskrnl with its PDB, encoded
# KdDebuggerDataBlock, KPCR/KPRCB, page tables), real QEMU (TCG) boots it
# and dumps its memory exactly as `virsh dump --memory-only` would (ELF, and
# kdump-zlib in the flattened layout); then wdt looks inside, writes a
# WinDbg-ready DMP and verifies it, offline, with the sample's symbol store.
set -euo pipefail
: "${WDT:?}"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo
mkdir -p "$out"

echo "== fixture factory: sample guest (Windows 10 19041 look-alike, 256 MiB, 1 CPU)"
fx=$("$top/tools/fixtures.sh" basic | tail -n 1)
ln -sf "$fx/dump.elf" "$out/guest.elf"
ln -sf "$fx/dump.kdump-zlib.flat" "$out/guest.kdump"
rm -rf "$out/symbols"; cp -r "$fx/symbols" "$out/symbols"
rm -f "$out/guest.dmp"
syms=(--offline --symbol-path "$out/symbols")

run() { printf '\n$ %s\n' "$(echo "$*" | sed "s|$WDT|wdt|; s|$out/||g")"; "$@"; }
cd "$out"
run "$WDT" info --no-runs guest.kdump
run "$WDT" find-kernel "${syms[@]}" guest.kdump
run "$WDT" kdbg --no-pdb guest.kdump
run "$WDT" convert "${syms[@]}" guest.kdump -o guest.dmp
run "$WDT" verify guest.dmp
echo
echo "demo: OK (the sample dumps and guest.dmp are in build/demo/)"
