#!/bin/bash
# make demo: the main job on a generated sample image. Boots nothing: QEMU
# starts a 1 GiB q35 guest stopped, with a known message loaded at physical
# 1 MiB, and writes its memory as an ELF core over QMP, exactly like
# `virsh dump --memory-only`; then wdt looks inside it.
set -euo pipefail
: "${WDT:?}"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo
mkdir -p "$out"
sock=$out/qmp.sock
rm -f "$sock" "$out/sample.elf"
printf 'Hello from the wdt demo: these bytes sit at guest physical 0x100000.\n' >"$out/message.bin"

echo "== QEMU: 1 GiB q35 guest, dump-guest-memory (ELF) to build/demo/sample.elf"
qemu-system-x86_64 -S -display none -nodefaults -accel tcg -machine q35 -m 1G \
	-qmp "unix:$sock,server=on,wait=off" \
	-device loader,file="$out/message.bin",addr=0x100000,force-raw=on &
qpid=$!
python3 "$top/tools/qmp.py" "$sock" dump-guest-memory \
	"{\"paging\":false,\"protocol\":\"file:$out/sample.elf\"}" quit >/dev/null
wait $qpid

run() { printf '\n$ %s\n' "$*"; "$@"; }
cd "$out"
run "$WDT" info --no-runs sample.elf
printf '\n$ wdt info --json sample.elf | (the runs)\n'
"$WDT" info --json sample.elf | python3 -c 'import json,sys; d=json.load(sys.stdin); print("runs:", [(r["start"], r["end"]) for r in d["memory"]["runs"]])'
run "$WDT" read sample.elf 0x100000 80
echo
echo "demo: OK (the sample dump is in build/demo/sample.elf)"
