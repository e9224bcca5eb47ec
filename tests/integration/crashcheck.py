# Checks of wdt's crash reports against a crashed fixture's truth.json.
# Shares nothing with wdt's C code.
#   crashcheck.py triage OUT.json TRUTH pdb|nopdb   wdt triage --json output
#   crashcheck.py crash OUT.json TRUTH pdb|nopdb KEY  the "crash" object at KEY
#                                                     (a dotted path; "" = top)
#   crashcheck.py input TRUTH pdb|nopdb CONVERT.json TRIAGE.json
#                       convert --json (its crash object, header context from
#                       the bugcheck) and triage --json of one input
#   crashcheck.py same-bucket TRIAGE.json...        one bucket from all
#   crashcheck.py not-cpu0 TRUTH                    the crash is not on CPU 0
# Exit 1 with '#' lines naming every difference.
import json, sys

H = lambda v: int(v, 16) if isinstance(v, str) else v


def short(mod):
    """WinDbg's module name: nt for the kernel, else the name sans suffix."""
    return "nt" if mod == "ntoskrnl.exe" else mod.rsplit(".", 1)[0]


def expect_bucket(c, pdb):
    b = c["blamed"]
    if pdb and b["module"] == "ntoskrnl.exe" and b.get("symbol"):
        return "0x%X_nt!%s" % (H(c["code"]), b["symbol"])
    return "0x%X_%s+0x%x" % (H(c["code"]), short(b["module"]), b["offset"])


def check_crash(got, c, pdb, bad):
    def eq(what, g, w):
        if g != w: bad.append("%s: wdt %r, truth %r" % (what, g, w))
    eq("crashed", got.get("crashed"), True)
    eq("code", H(got.get("code", "0")), H(c["code"]))
    eq("name", got.get("name"), c["name"])
    eq("parameters", [H(p) for p in got.get("parameters", [])], [H(p) for p in c["parameters"]])
    eq("cpu", got.get("cpu"), c["cpu"])
    eq("cpu_method", got.get("cpu_method"), "KiBugCheckActive" if pdb else "saved-context")


def check_triage(got, t, pdb, bad):
    c = t["crash"]
    def eq(what, g, w):
        if g != w: bad.append("%s: wdt %r, truth %r" % (what, g, w))
    check_crash({**got, "parameters": [p["value"] for p in got.get("parameters", [])]},
                c, pdb, bad)
    eq("rip", H(got["rip"]["address"]), H(c["context"]["rip"]))
    eq("rip module", got["rip"]["module"], "ntoskrnl.exe")
    eq("rsp", H(got["rsp"]), H(c["context"]["rsp"]))
    eq("return address", H(got["return_address"]["address"]), H(c["caller"]["va"]))
    eq("return address module", got["return_address"]["module"], c["caller"]["module"])
    if pdb:
        eq("rip symbol", got["rip"]["symbol"], "KeBugCheckEx")
        eq("return address symbol", got["return_address"]["symbol"], c["caller"]["symbol"])
    b = got.get("blamed") or {}
    eq("blamed module", b.get("module"), c["blamed"]["module"])
    eq("blamed address", H(b.get("address", "0")), H(c["blamed"]["address"]))
    eq("blamed offset", H(b.get("offset", "0")), c["blamed"]["offset"])
    eq("blamed by", got.get("blamed_by"), c["blamed"]["how"])
    eq("thread", H(got.get("thread", "0")), H(c["thread"]))
    eq("process", H(got.get("process", "0")), H(c["process"]))
    eq("process name", got.get("process_name"), c["process_name"])
    eq("process id", got.get("process_id"), c["process_id"])
    ks = t["kuser_shared_data"]
    eq("system time", H(got["system_time"]["raw"]), H(ks["system_time"]))
    eq("uptime", H(got["uptime"]["raw"]), H(ks["interrupt_time"]))
    eq("bucket", got.get("bucket"), expect_bucket(c, pdb))
    eq("module count", got.get("module_count"), len(t["modules"]))


if __name__ == "__main__":
    bad = []
    if sys.argv[1] == "input":
        t, pdb = json.load(open(sys.argv[2])), sys.argv[3] == "pdb"
        conv, tri = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
        check_crash(conv["crash"], t["crash"], pdb, bad)
        if conv.get("header_context_from") != "bugcheck" or \
                conv.get("header_context_cpu") != t["crash"]["cpu"]:
            bad.append("convert: header context from %r, CPU %r" % (
                conv.get("header_context_from"), conv.get("header_context_cpu")))
        check_triage(tri, t, pdb, bad)
        for p in bad[:20]:
            print("# " + p)
        sys.exit(1 if bad else 0)
    if sys.argv[1] == "not-cpu0":
        sys.exit(0 if json.load(open(sys.argv[2]))["crash"]["cpu"] > 0 else 1)
    if sys.argv[1] == "same-bucket":
        b = {f: json.load(open(f)).get("bucket") for f in sys.argv[2:]}
        if len(set(b.values())) != 1:
            for f, v in b.items():
                print("# %s: %s" % (f, v))
            sys.exit(1)
        sys.exit(0)
    what, out, truth, mode = sys.argv[1:5]
    got, t = json.load(open(out)), json.load(open(truth))
    pdb = mode == "pdb"
    if what == "triage":
        check_triage(got, t, pdb, bad)
    else:
        for k in filter(None, sys.argv[5].split(".")):
            got = got[k]
        check_crash(got, t["crash"], pdb, bad)
    for p in bad[:20]:
        print("# " + p)
    sys.exit(1 if bad else 0)
