# Helper of t0601: runs wdt find-kernel / kdbg on fixture dumps and compares
# with truth.json. Prints TAP. Usage: kernel_truth.py WDT EMPTY_DIR FIXTURE...
import hashlib, json, os, subprocess, sys

wdt, nosyms, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
n = 0
failed = 0


def tap(ok, desc, notes=()):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    for line in notes:
        print("# " + line)
    # WDT_TEST_BAIL=1 (tools/run-can-fail.sh): stop at the first failure, as lib.sh does.
    if not ok and os.environ.get("WDT_TEST_BAIL") == "1":
        print("Bail out! WDT_TEST_BAIL: stopping at the first failure")
        sys.exit(1)


def parse(out, desc):
    """wdt's --json output, or None after a "not ok" when it is not JSON."""
    try:
        return json.loads(out)
    except ValueError as e:
        tap(False, desc + ": prints one JSON object", [str(e), out[:200].decode(errors="replace")])
        return None


def h(v):
    return int(v, 16) if isinstance(v, str) else v


def run(args):
    p = subprocess.run([wdt] + args, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


for d in dirs:
    t = json.load(open(os.path.join(d, "truth.json")))
    name = os.path.basename(d)
    imgs = [f for f in ("dump.elf", "dump.kdump-zlib.flat", "dump.kdump-zlib", "dump.raw",
                        "dump.win-dmp")
            if os.path.exists(os.path.join(d, f))]
    for img in imgs:
        path = os.path.join(d, img)
        modes = {"pdb": ["--offline", "--symbol-path", os.path.join(d, "symbols")],
                 "no-pdb": ["--offline", "--symbol-path", nosyms]}
        # find-kernel
        rc, out, err = run(["find-kernel", "--json"] + modes["pdb"] + [path])
        if rc != 0:
            tap(False, "%s/%s: find-kernel" % (name, img), [err.strip()])
            continue
        fk = parse(out, "%s/%s: find-kernel --json" % (name, img))
        if fk is None:
            continue
        bad = []
        k, tk = fk["kernel"], t["kernel"]

        def eq(what, got, want):
            if h(got) != h(want):
                bad.append("%s: wdt %s, truth %s" % (what, got, want))
        eq("dtb", fk["dtb"]["value"], t["dtb"])
        eq("self-map slot", fk["dtb"]["self_map_index"], t["self_map_index"])
        eq("base_va", k["base_va"], tk["base_va"])
        eq("base_pa", k["base_pa"], tk["base_pa"])
        eq("size_of_image", k["size_of_image"], tk["size_of_image"])
        eq("timestamp", k["timestamp"], tk["timestamp"])
        if k["pdb_name"] != tk["pdb_name"] or k["pdb_key"] != tk["pdb_key"] or \
                k["pdb_age"] != tk["pdb_age"]:
            bad.append("PDB identity %s %s" % (k["pdb_name"], k["pdb_key"]))
        if k["exe_key"] != tk["exe_key"]:
            bad.append("exe key %s != %s" % (k["exe_key"], tk["exe_key"]))
        if not k["pdb_url"].endswith("/%s/%s/%s" % (tk["pdb_name"], tk["pdb_key"], tk["pdb_name"])):
            bad.append("url " + k["pdb_url"])
        want_pdb = os.path.join(d, tk["pdb_path"])
        if not fk["pdb"]["path"] or os.path.realpath(fk["pdb"]["path"]) != os.path.realpath(want_pdb):
            bad.append("pdb path %s" % fk["pdb"]["path"])
        # How it was found must fit the image: raw images have no CPU state.
        cpu_state = img not in ("dump.raw", "dump.win-dmp")
        if img == "dump.win-dmp":
            # QEMU's own DMP: the header names the DTB; no IDT in a CONTEXT.
            if fk["dtb"]["method"] != "dmp-header":
                bad.append("DMP: dtb method %s" % fk["dtb"]["method"])
        elif cpu_state and fk["dtb"]["method"] not in ("cpu-cr3", "kprcb-kernel-directory"):
            bad.append("dtb method %s with CPU state" % fk["dtb"]["method"])
        if t["kva_shadow"] and cpu_state and fk["dtb"]["method"] != "kprcb-kernel-directory":
            bad.append("KVA shadow guest: dtb method %s" % fk["dtb"]["method"])
        if img == "dump.raw" and fk["dtb"]["method"] != "low-stub":
            bad.append("raw image: dtb method %s" % fk["dtb"]["method"])
        if (k["method"] == "idt") != cpu_state:
            bad.append("kernel method %s" % k["method"])
        tap(not bad, "%s/%s: find-kernel: DTB %s (%s), base %s (%s), PDB identity" %
            (name, img, fk["dtb"]["value"], fk["dtb"]["method"], k["base_va"], k["method"]), bad)

        for mode, margs in modes.items():
            rc, out, err = run(["kdbg", "--json"] + margs + [path])
            if rc != 0:
                tap(False, "%s/%s %s: kdbg" % (name, img, mode), [err.strip()])
                continue
            j = parse(out, "%s/%s %s: kdbg --json" % (name, img, mode))
            if j is None:
                continue
            kd, tkd = j["kdbg"], t["kdbg"]
            bad = []
            eq("kdbg va", kd["va"], tkd["va"])
            eq("kdbg pa", kd["pa"], tkd["pa"])
            eq("size", kd["size"], tkd["size"])
            if kd["encoded"] != tkd["encoded"]:
                bad.append("encoded %s" % kd["encoded"])
            if kd["pdb_used"] != (mode == "pdb"):
                bad.append("pdb_used %s (%s)" % (kd["pdb_used"], kd["pdb_note"]))
            if mode == "no-pdb" and not kd["pdb_note"]:
                bad.append("no note saying why no PDB was used")
            if tkd["encoded"]:
                eq("KiWaitNever", kd["keys"]["ki_wait_never"], tkd["ki_wait_never"])
                eq("KiWaitAlways", kd["keys"]["ki_wait_always"], tkd["ki_wait_always"])
                eq("&KdpDataBlockEncoded", kd["keys"]["kdp_data_block_encoded"],
                   tkd["kdp_data_block_encoded_va"])
                eq("&KiWaitNever", kd["keys"]["ki_wait_never_va"], t["symbols"]["KiWaitNever"]["va"])
                eq("&KiWaitAlways", kd["keys"]["ki_wait_always_va"], t["symbols"]["KiWaitAlways"]["va"])
            f = kd["fields"]
            for fname, v in tkd["fields"].items():
                if fname not in f:
                    bad.append("field %s missing" % fname)
                else:
                    eq(fname, f[fname], v)
            eq("OwnerTag", f["Header.OwnerTag"], "0x4742444b")
            eq("Header.Size", f["Header.Size"], tkd["size"])
            # Fields the builder did not set are zero (header list aside).
            for fname, v in f.items():
                if fname not in tkd["fields"] and not fname.startswith("Header.") and h(v) != 0:
                    bad.append("field %s = %s, truth 0" % (fname, v))
            failed_checks = [c["name"] for c in kd["checks"] if not c["ok"]]
            if failed_checks:
                bad.append("consistency checks failed: %s" % failed_checks)
            v, tv = j["version"], t["kd_version_block"]
            if not v.get("fields"):
                bad.append("no version block")
            else:
                eq("version va", v["va"], tv["va"])
                for fname, val in tv.items():
                    if fname != "va":
                        eq("version " + fname, v["fields"][fname], val)
            rc, raw, err = run(["kdbg", "--raw"] + margs + [path])
            if rc != 0 or hashlib.sha256(raw).hexdigest() != tkd["plain_sha256"]:
                bad.append("--raw: exit %d, sha256 %s" % (rc, hashlib.sha256(raw).hexdigest()))
            tap(not bad, "%s/%s %s: KDBG at %s by %s, every field, keys, version block, --raw hash" %
                (name, img, mode, kd["va"], kd["method"]), bad)

print("1..%d" % n)
sys.exit(1 if failed else 0)
