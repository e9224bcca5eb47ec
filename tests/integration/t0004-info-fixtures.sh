#!/bin/bash
# wdt info on the fixture factory's Windows-like guests, dumped by real
# QEMU: every CPU's registers equal the truth (what the builder set and QEMU
# ran with), in the ELF and in the flattened kdump-zlib of each guest.
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 python3 clang lld-link

for name in basic smp4 crashed; do
	fixture dir "$name"
	for img in dump.elf dump.kdump-zlib.flat; do
		[ -f "$dir/$img" ] || continue
		expect_exit 0 "$name/$img: wdt info --json" "$WDT" info --json "$dir/$img"
		printf '%s\n' "$OUT" >"$TMP/info.json"
		check "$name/$img: CPUs and registers equal truth.json" python3 - "$TMP/info.json" "$dir/truth.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); truth = json.load(open(sys.argv[2]))
h = lambda v: int(v, 16) if isinstance(v, str) else v
bad = []
def eq(what, got, want):
    if h(got) != h(want): bad.append("%s: wdt %s, truth %s" % (what, got, want))
eq("cpu count", len(info["cpus"]), len(truth["cpus"]))
for c, t in zip(info["cpus"], truth["cpus"]):
    n = "cpu%d " % t["index"]
    for k in ("rsp", "cr0", "cr3", "cr4", "gs_base", "kernel_gs_base"):
        eq(n + k, c[k], t[k])
    # A CPU spinning in user mode may stop on any instruction of its loop.
    if h(c["rip"]) not in [h(v) for v in t.get("rip_possible", [t["rip"]])]:
        bad.append(n + "rip %s not in %s" % (c["rip"], t.get("rip_possible")))
    eq(n + "idtr", c["idtr_base"], t["idt_base"]); eq(n + "idtr limit", c["idtr_limit"], t["idt_limit"])
    eq(n + "gdtr", c["gdtr_base"], t["gdt_base"]); eq(n + "gdtr limit", c["gdtr_limit"], t["gdt_limit"])
    if not c["long_mode"]: bad.append(n + "not in long mode")
    regs = {r["name"]: r["value"] for r in c["registers"]}
    for k, v in t["gpr"].items(): eq(n + k, regs[k], v)
    eq(n + "rip in registers", regs["rip"], c["rip"])
    segs = {s["name"]: s["selector"] for s in c["segments"]}
    for k, v in t["segments"].items(): eq(n + "sel " + k, segs[k], v)
if bad: print("\n".join("# " + b for b in bad)); sys.exit(1)
PY
		check "$name/$img: the Windows kernel inside equals truth.json" python3 - "$TMP/info.json" "$dir/truth.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["windows"]; t = json.load(open(sys.argv[2]))
assert w["found"], w
assert int(w["dtb"], 16) == int(t["dtb"], 16), w["dtb"]
assert int(w["kernel_base"], 16) == int(t["kernel"]["base_va"], 16), w["kernel_base"]
assert w["version"] == "%d.%d" % (t["nt_major"], t["nt_minor"]), w["version"]
assert (w["build"] or 0) == t["kuser_shared_data"]["nt_build_number"], w["build"]
assert w["pdb_key"] == t["kernel"]["pdb_key"] and w["product_type"] == t["product_type"]
PY
		# Every RAM run of the guest is in the image.
		check "$name/$img: guest RAM runs are covered" python3 - "$TMP/info.json" "$dir/truth.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); truth = json.load(open(sys.argv[2]))
runs = [(int(r["start"], 16), int(r["end"], 16)) for r in info["memory"]["runs"]]
for r in truth["phys"]["ram_runs"]:
    a, n = int(r["pa"], 16), int(r["size"], 16)
    # QEMU leaves the legacy VGA/ROM window out of low RAM; ignore 0xa0000-0xfffff.
    for pa in range(a, a + n, 0x100000):
        p = max(pa, 0x100000) if pa < 0x100000 else pa
        if not any(s <= p <= e for s, e in runs): print("# 0x%x not covered" % p); sys.exit(1)
PY
	done
done
done_testing
