#!/bin/bash
# wdt find-kernel and wdt kdbg on every check fixture guest (builds 7601 to
# 22621, 1-4 CPUs, KVA shadow, cleartext and encoded KDBG, crashed and live,
# large and 4 KiB kernel pages) in every dump format: DTB, kernel base, PDB
# identity, every KDBG field, the decoded block's SHA-256, the decoding keys
# and the version block equal truth.json, with the PDB and with no PDB
# reachable at all.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
names=$(grep -E '^(basic|smp4|win7|crashed|win81|clear10|kpti2) ' "$TOP/tools/fixtures.list" | awk '{print $1}')
fixture dirs $names
mkdir -p "$TMP/nosyms"
exec python3 "$TOP/tests/integration/kernel_truth.py" "$WDT" "$TMP/nosyms" $dirs
