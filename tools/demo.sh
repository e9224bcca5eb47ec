#!/bin/bash
# make demo: the main job on a generated sample image. The fixture factory
# builds a small Windows-like guest (fake ntoskrnl with its PDB, encoded
# KdDebuggerDataBlock, KPCR/KPRCB, page tables), real QEMU (TCG) boots it
# and dumps its memory exactly as `virsh dump --memory-only` would (ELF, and
# kdump-zlib in the flattened layout); then wdt looks inside, writes a
# WinDbg-ready DMP and verifies it, offline, with the sample's symbol store.
# Then the same for a guest that crashed (0xD1 in a driver on CPU 2 of 3):
# triage names the culprit, convert keeps the saved bugcheck context.
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
echo "== a crashed guest: 0xD1 raised in a fake driver on CPU 2 of 3"
cx=$("$top/tools/fixtures.sh" crashd1 | tail -n 1)
ln -sf "$cx/dump.kdump-zlib.flat" "$out/crashed.kdump"
rm -rf "$out/crashed-symbols"; cp -r "$cx/symbols" "$out/crashed-symbols"
rm -f "$out/crashed.dmp"
csyms=(--offline --symbol-path "$out/crashed-symbols")
run "$WDT" triage "${csyms[@]}" crashed.kdump
run "$WDT" convert -q "${csyms[@]}" crashed.kdump -o crashed.dmp
run "$WDT" verify crashed.dmp
printf '\n$ wdt triage --json crashed.dmp   # the bucket: the same from every input\n'
"$WDT" triage --json "${csyms[@]}" crashed.dmp >crashed.json
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bucket"])' crashed.json
echo
echo "demo: OK (the sample dumps, guest.dmp and crashed.dmp are in build/demo/)"
