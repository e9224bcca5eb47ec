# An independent reader of the 64-bit Windows DMPs wdt writes (dmp64.md),
# for integration tests. Shares nothing with wdt's C code.
#   dmpcheck.py header FILE              -> JSON of header fields
#   dmpcheck.py compare DMP TRUTH RAW    -> TAP-free check: body == RAW except
#                                           KDBG and CONTEXT areas; exit 1 + '#' lines
#   dmpcheck.py pages FILE               -> sha256 over (pfn, page) of every page
import hashlib, json, os, struct, sys

PAGE = 4096


def u32(b, o): return struct.unpack_from("<I", b, o)[0]
def u64(b, o): return struct.unpack_from("<Q", b, o)[0]


class Dmp:
    def __init__(self, path):
        self.f = open(path, "rb")
        h = self.h = self.f.read(0x2000)
        assert h[:8] == b"PAGEDU64", "not a 64-bit DMP"
        self.type = u32(h, 0xF98)
        self.map = []          # (pfn, count, file_off)
        if self.type == 1:
            off = 0x2000
            for i in range(u32(h, 0x88)):
                base, cnt = struct.unpack_from("<QQ", h, 0x98 + 16 * i)
                self.map.append((base, cnt, off)); off += cnt * PAGE
            self.end = off
        elif self.type == 5:
            self.f.seek(0x2000); b = self.f.read(0x38)
            assert b[:8] == b"FDMP" + b"DUMP", b[:8]
            first, present, bits = u64(b, 0x20), u64(b, 0x28), u64(b, 0x30)
            bm = self.f.read((bits + 7) // 8)
            off, run = first, None
            for pfn in range(bits):
                if bm[pfn >> 3] >> (pfn & 7) & 1:
                    if run and run[0] + run[1] == pfn: run[1] += 1
                    else:
                        run = [pfn, 1, off]; self.map.append(run)
                    off += PAGE
            self.map = [tuple(r) for r in self.map]
            assert sum(r[1] for r in self.map) == present, "popcount != present"
            self.end = off
        else:
            raise SystemExit("DumpType %d" % self.type)

    def header(self):
        h = self.h
        return {"major": u32(h, 8), "minor": u32(h, 0xC), "dtb": u64(h, 0x10),
                "pfn_database": u64(h, 0x18), "ps_loaded_module_list": u64(h, 0x20),
                "ps_active_process_head": u64(h, 0x28), "machine": u32(h, 0x30),
                "nprocs": u32(h, 0x34), "bugcheck_code": u32(h, 0x38),
                "bugcheck_params": list(struct.unpack_from("<4Q", h, 0x40)),
                "kdbg": u64(h, 0x80), "dump_type": self.type,
                "required_space": u64(h, 0xFA0), "system_time": u64(h, 0xFA8),
                "system_uptime": u64(h, 0x1030), "product_type": u32(h, 0x1040),
                "suite_mask": u32(h, 0x1044), "kd_secondary_version": h[0x104D],
                "comment": h[0xFB0:0x1030].split(b"\0")[0].decode(),
                "context": ctx_regs(h[0x348:0x348 + 0x4D0]),
                "exception_code": u32(h, 0xF00), "exception_address": u64(h, 0xF10),
                "runs": [(p, c) for p, c, _ in self.map], "end": self.end}

    def runs(self):
        for pfn, cnt, off in self.map:
            yield pfn, cnt, off

    def read(self, off, n):
        self.f.seek(off); return self.f.read(n)


def ctx_regs(c):
    names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + ["r%d" % i for i in range(8, 16)]
    r = {n: u64(c, 0x78 + 8 * i) for i, n in enumerate(names)}
    r["rip"] = u64(c, 0xF8); r["rflags"] = u32(c, 0x44); r["flags"] = u32(c, 0x30)
    r["mxcsr"] = u32(c, 0x34); r["flt_mxcsr"] = u32(c, 0x118)
    for i, s in enumerate(("cs", "ds", "es", "fs", "gs", "ss")):
        r[s] = struct.unpack_from("<H", c, 0x38 + 2 * i)[0]
    return r


def compare(dmp_path, truth_path, raw_path):
    d, t = Dmp(dmp_path), json.load(open(truth_path))
    raw = open(raw_path, "rb")
    H = lambda v: int(v, 16) if isinstance(v, str) else v
    allowed = [(H(t["kdbg"]["pa"]), H(t["kdbg"]["pa"]) + t["kdbg"]["size"], "kdbg")]
    # The CONTEXT behind KPRCB.Context of each CPU (contiguous in the fixture).
    kbase_va, kbase_pa = H(t["kernel"]["base_va"]), H(t["kernel"]["base_pa"])
    ctx_pas = {}
    for c in t["cpus"]:
        ctx_pas[c["index"]] = None
    bad, diff_ranges = [], []
    # Descriptors of their own: moving the file objects' offsets under
    # their buffers would corrupt later reads.
    dfd, rfd = os.open(dmp_path, os.O_RDONLY), os.open(raw_path, os.O_RDONLY)
    def data_at(fd, pos):
        """Where data starts at or after pos (holes of sparse files read
        as zero, so two holes are equal without reading them)."""
        try: return os.lseek(fd, pos, os.SEEK_DATA)
        except OSError: return 1 << 62       # only holes up to the end
    for pfn, cnt, off in d.runs():
        pa = pfn * PAGE
        for k in range(0, cnt, 1024):
            n = min(1024, cnt - k)
            if (data_at(dfd, off + k * PAGE) >= off + (k + n) * PAGE and
                    data_at(rfd, pa + k * PAGE) >= pa + (k + n) * PAGE):
                continue
            a = d.read(off + k * PAGE, n * PAGE)
            raw.seek(pa + k * PAGE); b = raw.read(n * PAGE)
            b = b + bytes(n * PAGE - len(b))
            if a == b: continue
            for p in range(n):
                x, y = a[p * PAGE:(p + 1) * PAGE], b[p * PAGE:(p + 1) * PAGE]
                if x == y: continue
                base = pa + (k + p) * PAGE
                i = 0
                while i < PAGE:
                    if x[i] != y[i]:
                        j = i
                        while j < PAGE and x[j] != y[j]: j += 1
                        diff_ranges.append((base + i, base + j)); i = j
                    else: i += 1
    os.close(dfd); os.close(rfd)
    return d, diff_ranges


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "header":
        print(json.dumps(Dmp(sys.argv[2]).header()))
    elif cmd == "pages":
        d = Dmp(sys.argv[2]); hs = hashlib.sha256()
        for pfn, cnt, off in d.runs():
            for k in range(cnt):
                hs.update(struct.pack("<Q", pfn + k)); hs.update(d.read(off + k * PAGE, PAGE))
        print(hs.hexdigest())
    elif cmd == "diff":
        d, r = compare(sys.argv[2], sys.argv[3], sys.argv[4])
        print(json.dumps(r))


def vtop(raw, dtb, va):
    """4-level walk over a flat image (file offset = PA)."""
    def q(pa):
        raw.seek(pa); b = raw.read(8)
        return u64(b, 0) if len(b) == 8 else 0
    e = q((dtb & ~0xFFF) + 8 * ((va >> 39) & 511))
    if not e & 1: return None
    e = q((e & 0xFFFFFFFFFF000) + 8 * ((va >> 30) & 511))
    if not e & 1: return None
    if e & 0x80: return (e & 0xFFFFFC0000000) + (va & 0x3FFFFFFF)
    e = q((e & 0xFFFFFFFFFF000) + 8 * ((va >> 21) & 511))
    if not e & 1: return None
    if e & 0x80: return (e & 0xFFFFFFFE00000) + (va & 0x1FFFFF)
    e = q((e & 0xFFFFFFFFFF000) + 8 * ((va >> 12) & 511))
    if not e & 1: return None
    return (e & 0xFFFFFFFFFF000) + (va & 0xFFF)


def phys(d, pa, n):
    """n bytes at guest physical pa from a DMP's body, or None."""
    for pfn, cnt, off in d.runs():
        if pfn * PAGE <= pa and pa + n <= (pfn + cnt) * PAGE:
            return d.read(off + pa - pfn * PAGE, n)
    return None


def check(dmp_path, truth_path, raw_path, input_has_cpus, flags=()):
    """flags: "saved" (--contexts saved), "lost" (the input had already
    lost the saved bugcheck context, e.g. QEMU's own DMP)."""
    saved_contexts = "saved" in flags
    """Every claim of issue 7 about one DMP; returns a list of problems."""
    t = json.load(open(truth_path)); raw = open(raw_path, "rb")
    H = lambda v: int(v, 16) if isinstance(v, str) else v
    d, diffs = compare(dmp_path, truth_path, raw_path)
    h = d.header(); bad = []
    def eq(what, got, want):
        if got != want: bad.append("%s: dmp 0x%x, truth 0x%x" % (what, got, want))
    vb = t["kd_version_block"]
    eq("MajorVersion", h["major"], H(vb["MajorVersion"])); eq("MinorVersion", h["minor"], H(vb["MinorVersion"]))
    eq("KdSecondaryVersion", h["kd_secondary_version"], H(vb["KdSecondaryVersion"]))
    eq("DirectoryTableBase", h["dtb"], H(t["dtb"]))
    eq("PfnDataBase", h["pfn_database"], H(t["mm_pfn_database"]))
    eq("PsLoadedModuleList", h["ps_loaded_module_list"], H(t["ps_loaded_module_list"]))
    eq("PsActiveProcessHead", h["ps_active_process_head"], H(t["ps_active_process_head"]))
    eq("MachineImageType", h["machine"], 0x8664)
    eq("NumberProcessors", h["nprocs"], len(t["cpus"]))
    bc = t["bugcheck"]
    eq("BugCheckCode", h["bugcheck_code"], H(bc["code"]) if bc else 0x161)
    for i in range(4):
        eq("BugCheckParameter%d" % (i + 1), h["bugcheck_params"][i], H(bc["parameters"][i]) if bc else 0)
    eq("KdDebuggerDataBlock", h["kdbg"], H(t["kdbg"]["va"]))
    ks = t["kuser_shared_data"]
    eq("SystemTime", h["system_time"], H(ks["system_time"])); eq("SystemUpTime", h["system_uptime"], H(ks["interrupt_time"]))
    eq("ProductType", h["product_type"], ks["nt_product_type"]); eq("SuiteMask", h["suite_mask"], H(ks["suite_mask"]))
    eq("RequiredDumpSpace", h["required_space"], os.path.getsize(dmp_path))
    eq("body end", h["end"], os.path.getsize(dmp_path))
    if "wdt" not in h["comment"]: bad.append("comment %r" % h["comment"])
    eq("exception code", h["exception_code"], 0x80000003)
    eq("exception address = context rip", h["exception_address"], h["context"]["rip"])
    crash = t.get("crash")
    if crash:
        # A crash: the crashing CPU's saved bugcheck CONTEXT, byte for byte.
        raw.seek(H(crash["context_pa"])); saved = raw.read(0x4D0)
        if hashlib.sha256(saved).hexdigest() != crash["context_sha256"]:
            bad.append("dump.raw does not hold the saved context at context_pa")
        body = phys(d, H(crash["context_pa"]), 0x4D0)
        if "lost" in flags:
            saved = body      # the best the input still has
        elif body != saved:
            bad.append("the crashing CPU's saved CONTEXT was changed in the body")
        if d.h[0x348:0x348 + 0x4D0] != saved:
            bad.append("header context is not CPU %d's saved bugcheck CONTEXT (rip 0x%x)"
                       % (crash["cpu"], h["context"]["rip"]))
    else:
        # Live: CPU 0's registers (from the CPU state, or the guest's own).
        c0, ctx = t["cpus"][0], h["context"]
        if ctx["rip"] not in [H(v) for v in c0.get("rip_possible", [c0["rip"]])]:
            bad.append("context rip 0x%x" % ctx["rip"])
        eq("context rsp", ctx["rsp"], H(c0["rsp"]))
        for r, v in c0["gpr"].items(): eq("context " + r, ctx[r], H(v))
        for s in ("cs", "ds", "es", "fs", "gs", "ss"):
            if s in c0["segments"]: eq("context sel " + s, ctx[s], c0["segments"][s])
        eq("context MxCsr pair", ctx["mxcsr"], ctx["flt_mxcsr"])
    # Body: equal to the guest except the KDBG block and the CONTEXTs.
    kpa, ksz = H(t["kdbg"]["pa"]), t["kdbg"]["size"]
    allowed = [(kpa, kpa + ksz)]
    ctx_at = {}
    crash_cpu = crash["cpu"] if crash else None
    for c in t["cpus"]:
        pa = vtop(raw, H(t["dtb"]), H(c["context_va"]))
        ctx_at[c["index"]] = pa
        if (c["index"] != crash_cpu or "lost" in flags) and not saved_contexts:
            allowed.append((pa, pa + 0x4D0))
    for a, b in diffs:
        if not any(x <= a and b <= y for x, y in allowed):
            bad.append("body differs from the guest at 0x%x-0x%x" % (a, b))
    # The KDBG area holds the decoded block.
    for pfn, cnt, off in d.runs():
        if pfn * PAGE <= kpa < (pfn + cnt) * PAGE:
            blk = d.read(off + kpa - pfn * PAGE, ksz)
            if hashlib.sha256(blk).hexdigest() != t["kdbg"]["plain_sha256"]:
                bad.append("KDBG in the body is not the decoded block")
    # Each CPU's CONTEXT holds its registers (when the input had CPU state).
    if input_has_cpus and not saved_contexts:
        for c in t["cpus"]:
            if c["index"] == crash_cpu: continue
            pa = ctx_at[c["index"]]
            for pfn, cnt, off in d.runs():
                if pfn * PAGE <= pa < (pfn + cnt) * PAGE:
                    r = ctx_regs(d.read(off + pa - pfn * PAGE, 0x4D0))
                    n = "cpu%d CONTEXT " % c["index"]
                    if r["rip"] not in [H(v) for v in c.get("rip_possible", [c["rip"]])]:
                        bad.append(n + "rip 0x%x" % r["rip"])
                    eq(n + "rsp", r["rsp"], H(c["rsp"]))
                    for k, v in c["gpr"].items(): eq(n + k, r[k], H(v))
                    eq(n + "cs", r["cs"], c["segments"]["cs"])
                    eq(n + "MxCsr pair", r["mxcsr"], r["flt_mxcsr"])
    return bad


if __name__ == "__main__" and sys.argv[1] == "check":
    problems = check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1",
                     sys.argv[6].split(",") if len(sys.argv) > 6 else ())
    for p in problems[:20]: print("# " + p)
    sys.exit(1 if problems else 0)
