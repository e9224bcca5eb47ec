#!/bin/bash
# QEMU migration streams (formats/qevm.c): the factory writes each fixture's
# stopped guest with `migrate "exec:cat > dump.qevm"` after its ELF dump.
# info names the stream; convert gives the same DMP, byte for byte (runs,
# pages, header, crash context), as the guest's ELF dump; the stream's
# CPU registers equal QEMU's own view. Damaged streams: one line, exit 3,
# nothing written, input untouched.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link
fixture dirs basic crashed crash80

for d in $dirs; do
	n=$(basename "$d")
	s=$d/dump.qevm
	check "$n: the factory wrote dump.qevm" test -s "$s"
	expect_exit 0 "$n: info --json on the stream" "$WDT" info --json "$s"
	check "  ... format qevm, machine pc-i440fx, QEMU's CPU count and registers" python3 -c '
import json, sys
i = json.loads(sys.argv[1]); t = json.load(open(sys.argv[2]))
assert i["format"] == "qevm", i["format"]
m = i["migration_stream"]
assert m["machine"].startswith("pc-i440fx-"), m
assert m["vm_description"] is True, m
q = t["qemu"]["cpus"]
assert len(i["cpus"]) == len(q), (len(i["cpus"]), len(q))
for c, r in zip(i["cpus"], q):
    regs = {x["name"]: x["value"] for x in c["registers"]}
    regs.update(rip=c["rip"], rsp=c["rsp"])
    for k in ("rip", "rsp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r15"):
        assert int(regs[k], 16) == int(r[k], 16), (c["index"], k, regs[k], r[k])
    assert int(c["cr3"], 16) == int(r["cr3"], 16), (c["cr3"], r["cr3"])
' "$OUT" "$d/truth.json"
	rm -f "$TMP/a.dmp" "$TMP/b.dmp" "$TMP/a.raw" "$TMP/b.raw"
	expect_exit 0 "$n: convert the stream" "$WDT" convert --no-pdb "$s" -o "$TMP/a.dmp"
	expect_exit 0 "$n: convert the ELF dump" "$WDT" convert --no-pdb "$d/dump.elf" -o "$TMP/b.dmp"
	check "  ... the two DMPs are byte-identical" cmp "$TMP/a.dmp" "$TMP/b.dmp"
	expect_exit 0 "  ... verify accepts the stream's DMP" "$WDT" verify "$TMP/a.dmp"
	rm -f "$TMP/a.dmp" "$TMP/b.dmp"
done

# Damaged streams, made from the basic guest's by tools/mkbad-qevm.py.
b=$(head -n 1 <<<"$dirs")/dump.qevm
sum=$(sha256sum "$b")
bad() { # bad CASE NEEDLE
	local in=$TMP/bad.qevm
	rm -f "$in" "$TMP/out.dmp"
	python3 "$TOP/tools/mkbad-qevm.py" "$1" "$b" "$in" || { not_ok "mkbad-qevm.py $1"; return; }
	for cmd in info convert; do
		local extra=()
		[ $cmd = convert ] && extra=(--no-pdb -o "$TMP/out.dmp")
		expect_exit 3 "$1: $cmd fails" "$WDT" $cmd "$in" "${extra[@]}"
		check "  ... one line naming the file and the fault" bash -c \
			'[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && grep -qF -- "wdt: $2: " <<<"$1" && grep -qF -- "$3" <<<"$1"' _ "$ERR" "$in" "$2"
		check "  ... nothing written" test ! -e "$TMP/out.dmp"
	done
}
bad truncate-ram "the file is truncated"
bad truncate-devices "no end-of-stream record (RAM is complete): the file is truncated"
bad unknown-record "unknown record type 0x5a"
bad xbzrle "'xbzrle' migration capability"
bad compress "'compress' migration capability"
bad machine-virt "is not a PC machine"
bad block-past-end "past the end of RAM block"
bad missing-page "never sent: the stream is incomplete"
bad version-2 "migration stream version 2"
check "the basic stream is untouched" bash -c '[ "$(sha256sum "$1")" = "$2" ]' _ "$b" "$sum"

# A page sent again (live migration resends dirty pages): the last copy wins.
python3 "$TOP/tools/mkbad-qevm.py" resend "$b" "$TMP/resend.qevm" || not_ok "mkbad-qevm.py resend"
expect_exit 0 "resent page: info reads it" "$WDT" info --json "$TMP/resend.qevm"
check "  ... counts the page sent again" python3 -c '
import json, sys
m = json.loads(sys.argv[1])["migration_stream"]
assert sum(b["resent_pages"] for b in m["ram_blocks"]) == 2, m' "$OUT"
expect_exit 0 "  ... convert -O raw" "$WDT" convert --no-pdb -O raw "$TMP/resend.qevm" -o "$TMP/resend.raw"
check "  ... the pages read as their last copies, their neighbours as before" python3 -c '
import sys
r, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
def at(f, off):
    f.seek(off); return f.read(4096)
assert at(r, 0x200000) == b"\xa5" * 4096, at(r, 0x200000)[:16]
assert at(r, 0x201000) == b"\x5a" * 4096, at(r, 0x201000)[:16]
assert at(r, 0x1ff000) == at(b, 0x1ff000) and at(r, 0x202000) == at(b, 0x202000)' "$TMP/resend.raw" "$(dirname "$b")/dump.raw"
rm -f "$TMP/resend.raw"

# Without the JSON description (cut after the EOF record), the built-in
# 7.x layout gives the same CPU state: the same DMP.
python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
nul = b.rfind(b"\0"); j = b.find(b"{", nul)
open(sys.argv[2], "wb").write(b[:j - 5])' "$b" "$TMP/nojson.qevm"
rm -f "$TMP/a.dmp" "$TMP/b.dmp"
expect_exit 0 "no VM description: convert" "$WDT" convert --no-pdb "$TMP/nojson.qevm" -o "$TMP/a.dmp"
expect_exit 0 "  ... and the ELF dump" "$WDT" convert --no-pdb "$(dirname "$b")/dump.elf" -o "$TMP/b.dmp"
check "  ... the DMPs are byte-identical" cmp "$TMP/a.dmp" "$TMP/b.dmp"
expect_exit 0 "  ... info says where the layout came from" "$WDT" info --json "$TMP/nojson.qevm"
check "  ... the built-in layout, no description" python3 -c '
import json, sys
m = json.loads(sys.argv[1])["migration_stream"]
assert m["vm_description"] is False and "7.x" in m["cpu_layout"], m' "$OUT"
done_testing
