#!/usr/bin/env python3
"""mkbad — malformed dump files that no VM produces, for wdt's tests.

    mkbad.py --list                  one line per case: NAME  what is wrong
    mkbad.py --bases                 the valid base files and what they hold
    mkbad.py CASE OUT                write case (or base) CASE to OUT
    mkbad.py --recipe 'BASE; OP; OP...' OUT
                                     write an ad-hoc case from a recipe
    mkbad.py --edits CASE            JSON: base, expect, final size, changed
                                     and inserted byte ranges (self-checks)
    mkbad.py --expect CASE           the case's expectations (key=value ...)
    mkbad.py --symbols BASE          the named offsets a recipe may use
    --spec FILE                      read cases from FILE instead of
                                     mkbad.cases beside this script

A case is a base file (built here from the specs in ../shared/spec, small,
deterministic) plus edits. Edits (one per line in the spec file, ';'
separated in a recipe); POS/LEN/VALUE are expressions over numbers, the
base's symbols, + - * // % << >> & | ~ and parentheses:
    set u8|u16|u32|u64|be32|be64 POS = VALUE   store (negative wraps)
    fill POS, LEN, BYTE                        overwrite LEN bytes
    bytes POS "TEXT"                           overwrite with ASCII text
    truncate LEN                               cut the file to LEN bytes
    insert POS, LEN, BYTE                      insert LEN bytes
Python 3 standard library only; written from the specs, not from any
reader's code.
"""
import ast
import hashlib
import json
import os
import struct
import sys
import zlib

PAGE = 4096
# The guest memory every base holds: two runs of four pages.
RUNS = [(0x0, 4), (0x100, 4)]


def pfns():
    return [b + i for b, n in RUNS for i in range(n)]


def page_bytes(pfn):
    """Deterministic content: text, zero, random, text per 4 PFNs."""
    kind = pfn % 4
    if kind == 1:
        return bytes(PAGE)
    if kind == 2:
        out, h = bytearray(), hashlib.sha256(b"mkbad %d" % pfn).digest()
        while len(out) < PAGE:
            h = hashlib.sha256(h).digest()
            out += h
        return bytes(out[:PAGE])
    line = b"mkbad PFN 0x%05x: the quick brown fox jumps over it.\n" % pfn
    return (line * (PAGE // len(line) + 1))[:PAGE]


def note(name, ntype, desc):
    """One ELF note, 4-byte padded as QEMU writes (qemu-elf.md §4)."""
    n = name.encode() + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def notes_blob():
    prstatus = bytearray(0x150)
    struct.pack_into("<I", prstatus, 0x20, 1)               # pr_pid
    struct.pack_into("<Q", prstatus, 0x70 + 0x80, 0xfffff80012345678)  # rip
    cpu = bytearray(0x1B8)
    struct.pack_into("<II", cpu, 0, 1, 0x1B8)                # version, size
    struct.pack_into("<Q", cpu, 0x188 + 3 * 8, 0x1AA000)   # cr3
    return note("CORE", 1, bytes(prstatus)) + note("QEMU", 0, bytes(cpu))


# ---------------------------------------------------------------- bases --

def base_elf(cls=64, xnum=False):
    """QEMU-style ET_CORE: PT_NOTE first, one PT_LOAD per run, memory right
    after the notes (unaligned p_offset); with xnum, e_phnum = PN_XNUM and
    the count in section header 0's sh_info, Shdr before Phdrs (QEMU 7.2)."""
    notes = notes_blob()
    nph = 1 + len(RUNS)
    if cls == 64:
        ehsz, phent, shent = 64, 56, 64
    else:
        ehsz, phent, shent = 52, 32, 40
    shoff = ehsz if xnum else 0
    phoff = ehsz + (shent if xnum else 0)
    note_off = phoff + nph * phent
    mem_off = note_off + len(notes)
    sym = {"ehdr": 0, "phoff": phoff, "phent": phent, "note_off": note_off,
           "note_size": len(notes), "shoff": shoff}
    ph = []
    ph.append((4, 0, note_off, 0, len(notes)))
    off = mem_off
    for i, (b, n) in enumerate(RUNS):
        sym["load%d_off" % i] = off
        ph.append((1, 7, off, b * PAGE, n * PAGE))
        off += n * PAGE
    for i in range(nph):
        sym["ph%d" % i] = phoff + i * phent
    e = bytearray(ehsz)
    e[0:4] = b"\x7fELF"
    e[4], e[5], e[6] = (2 if cls == 64 else 1), 1, 1
    machine = 62 if cls == 64 else 3
    if cls == 64:
        struct.pack_into("<HHIQQQIHHHHHH", e, 16, 4, machine, 1, 0, phoff,
                         shoff, 0, ehsz, phent, 0xFFFF if xnum else nph,
                         shent if xnum else 0, 1 if xnum else 0, 0)
    else:
        struct.pack_into("<HHIIIIIHHHHHH", e, 16, 4, machine, 1, 0, phoff,
                         shoff, 0, ehsz, phent, 0xFFFF if xnum else nph,
                         shent if xnum else 0, 1 if xnum else 0, 0)
    out = bytearray(e)
    if xnum:
        sh = bytearray(shent)
        struct.pack_into("<I", sh, 0x2C if cls == 64 else 0x1C, nph)
        out += sh
    for t, fl, o, pa, sz in ph:
        if cls == 64:
            out += struct.pack("<IIQQQQQQ", t, fl, o, pa, pa, sz, sz, 0)
        else:
            out += struct.pack("<IIIIIIII", t, o, pa, pa, sz, sz, fl, 0)
    out += notes
    for p in pfns():
        out += page_bytes(p)
    if cls == 64:
        sym.update(P_TYPE=0, P_OFFSET=8, P_PADDR=0x18, P_FILESZ=0x20,
                   P_MEMSZ=0x28, E_PHOFF=0x20, E_SHOFF=0x28, E_PHENTSIZE=0x36,
                   E_PHNUM=0x38, E_SHNUM=0x3C, SH_INFO=0x2C)
    else:
        sym.update(P_TYPE=0, P_OFFSET=4, P_PADDR=0xC, P_FILESZ=0x10,
                   P_MEMSZ=0x14, E_PHOFF=0x1C, E_SHOFF=0x20, E_PHENTSIZE=0x2A,
                   E_PHNUM=0x2C, E_SHNUM=0x30, SH_INFO=0x1C)
    sym.update(EI_CLASS=4, EI_DATA=5, E_TYPE=0x10, E_MACHINE=0x12)
    return bytes(out), sym


def base_kdump():
    """Non-flattened kdump, zlib, header version 6, as QEMU lays it out
    (kdump.md §1-§6, §8): one shared zero page first, raw fallback."""
    notes = notes_blob()
    max_mapnr = max(pfns()) + 1
    sub_blocks = -(-(0x68 + len(notes)) // PAGE)
    bm_blocks = -(-(-(-max_mapnr // 8)) // PAGE)
    bm_off = (1 + sub_blocks) * PAGE
    desc_off = bm_off + 2 * bm_blocks * PAGE
    data_off = desc_off + 24 * len(pfns())
    hdr = bytearray(PAGE)
    hdr[0:8] = b"KDUMP   "
    struct.pack_into("<i", hdr, 0x8, 6)
    hdr[0x110:0x116] = b"x86_64"
    struct.pack_into("<IiiIIIIIIi", hdr, 0x1A8, 1, PAGE, sub_blocks,
                     2 * bm_blocks, max_mapnr, 0, 0, 0, 0, 1)
    sub = bytearray(sub_blocks * PAGE)
    struct.pack_into("<QiI", sub, 0, 0, 1, 0)
    struct.pack_into("<QQ", sub, 0x30, PAGE + 0x68, len(notes))
    struct.pack_into("<Q", sub, 0x60, max_mapnr)
    sub[0x68:0x68 + len(notes)] = notes
    bm = bytearray(bm_blocks * PAGE)
    for p in pfns():
        bm[p >> 3] |= 1 << (p & 7)
    descs, data = bytearray(), bytearray(bytes(PAGE))   # zero page first
    sym = {"sub": PAGE, "bitmap1": bm_off, "bitmap2": bm_off + bm_blocks * PAGE,
           "desc": desc_off, "data": data_off, "DESC_SIZE": 24,
           "max_mapnr": max_mapnr}
    for k, p in enumerate(pfns()):
        pg = page_bytes(p)
        if pg == bytes(PAGE):
            descs += struct.pack("<QIIQ", data_off, PAGE, 0, 0)
            continue
        c = zlib.compress(pg, 1)
        at = data_off + len(data)
        if len(c) < PAGE:
            descs += struct.pack("<QIIQ", at, len(c), 1, 0)
            data += c
            sym.setdefault("cdesc", desc_off + 24 * k)
            sym.setdefault("cdata", at)
            sym.setdefault("csize", len(c))
        else:
            descs += struct.pack("<QIIQ", at, PAGE, 0, 0)
            data += pg
            sym.setdefault("rdesc", desc_off + 24 * k)
            sym.setdefault("rdata", at)
            sym.setdefault("rpfn", p)
    out = hdr + sub + bm + bm + descs + data
    assert len(out) == data_off + len(data)
    sym.update(DH_VERSION=0x8, DH_STATUS=0x1A8, DH_BLOCK_SIZE=0x1AC,
               DH_SUB_HDR_SIZE=0x1B0, DH_BITMAP_BLOCKS=0x1B4,
               DH_MAX_MAPNR=0x1B8, SH_MAX_MAPNR_64=PAGE + 0x60,
               SH_OFF_NOTE=PAGE + 0x30, SH_SIZE_NOTE=PAGE + 0x38,
               D_OFFSET=0, D_SIZE=8, D_FLAGS=12)
    return bytes(out), sym


def base_kdump_flat(rec=PAGE):
    """The kdump base flattened (kdump.md §7): 4096-byte BE header, then
    (offset, size) records of <= rec bytes in file order, then (-1, -1)."""
    raw, ksym = base_kdump()
    out = bytearray(PAGE)
    out[0:12] = b"makedumpfile"
    struct.pack_into(">qq", out, 16, 1, 1)
    sym = {"raw_" + k: v for k, v in ksym.items()}
    n = 0
    for off in range(0, len(raw), rec):
        chunk = raw[off:off + rec]
        sym["rec%d" % n] = len(out)
        out += struct.pack(">qq", off, len(chunk)) + chunk
        n += 1
    sym["rec_last"] = sym["rec%d" % (n - 1)]
    sym["nrec"] = n
    sym["end_marker"] = len(out)
    out += struct.pack(">qq", -1, -1)
    sym["R_OFFSET"], sym["R_SIZE"], sym["R_DATA"] = 0, 8, 16
    return bytes(out), sym


def dmp_header(dump_type):
    h = bytearray(0x2000)
    h[0:8] = b"PAGEDU64"
    struct.pack_into("<IIQQQQII", h, 8, 0xF, 19041, 0x1AA000,
                     0xfffffa8000000000, 0xfffff80000400000,
                     0xfffff80000400100, 0x8664, 1)
    struct.pack_into("<I", h, 0x38, 0x161)
    struct.pack_into("<Q", h, 0x80, 0xfffff80000500000)
    struct.pack_into("<I", h, 0xF98, dump_type)
    return h


DMP_SYMS = dict(SIGNATURE=0, VALID_DUMP=4, NUMBER_OF_RUNS=0x88,
                NUMBER_OF_PAGES=0x90, RUN0=0x98, RUN_SIZE=16, DUMP_TYPE=0xF98,
                REQUIRED_DUMP_SPACE=0xFA0, MAX_RUNS=42)


def base_dmp():
    """Full DMP (dmp64.md §2, §3, §6): DumpType 1, runs, data at 0x2000."""
    h = dmp_header(1)
    npages = sum(n for _, n in RUNS)
    struct.pack_into("<IIQ", h, 0x88, len(RUNS), 0, npages)
    for i, (b, n) in enumerate(RUNS):
        struct.pack_into("<QQ", h, 0x98 + 16 * i, b, n)
    struct.pack_into("<q", h, 0xFA0, 0x2000 + npages * PAGE)
    out = h + b"".join(page_bytes(p) for p in pfns())
    sym = dict(DMP_SYMS, data=0x2000)
    return bytes(out), sym


def base_dmp_bitmap():
    """Bitmap full DMP (dmp64.md §7): DumpType 5, FDMP header at 0x2000,
    'PAGE'-filled PhysicalMemoryBlock, first page at 0x3000."""
    h = dmp_header(5)
    h[0x88:0x348] = b"PAGE" * ((0x348 - 0x88) // 4)
    bits = max(pfns()) + 1
    first = 0x3000
    s = bytearray(first - 0x2000)
    s[0:8] = b"FDMPDUMP"
    struct.pack_into("<QQQ", s, 0x20, first, len(pfns()), bits)
    for p in pfns():
        s[0x38 + (p >> 3)] |= 1 << (p & 7)
    struct.pack_into("<q", h, 0xFA0, first + len(pfns()) * PAGE)
    out = h + s + b"".join(page_bytes(p) for p in pfns())
    sym = dict(DMP_SYMS, bmp=0x2000, FIRST_PAGE=0x2020, PRESENT=0x2028,
               BITS=0x2030, BITMAP=0x2038)
    return bytes(out), sym


BASES = {
    "empty": (lambda: (b"", {}), "zero-length file"),
    "elf": (lambda: base_elf(64), "valid ELF64 x86-64 core: PT_NOTE + 2 PT_LOADs "
            "(PFN 0-3, 0x100-0x103), unaligned p_offset"),
    "elf32": (lambda: base_elf(32), "valid ELF32 i386 core, same memory"),
    "elf-xnum": (lambda: base_elf(64, True), "valid ELF64 core with e_phnum = "
                 "PN_XNUM and the count in section header 0"),
    "kdump": (base_kdump, "valid raw kdump, zlib, v6, shared zero page, "
              "one raw (incompressible) page"),
    "kdump-flat": (base_kdump_flat, "valid flattened kdump (records of "
                   "4096 bytes) of the kdump base"),
    "dmp": (base_dmp, "valid full DMP64 (DumpType 1, 2 runs, 8 pages)"),
    "dmp-bitmap": (base_dmp_bitmap, "valid bitmap DMP64 (DumpType 5, FDMP)"),
}

# ---------------------------------------------------------------- edits --

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
        ast.Mod: lambda a, b: a % b, ast.LShift: lambda a, b: a << b,
        ast.RShift: lambda a, b: a >> b, ast.BitAnd: lambda a, b: a & b,
        ast.BitOr: lambda a, b: a | b}


class SpecError(Exception):
    pass


def evaluate(text, sym):
    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, int):
            return n.value
        if isinstance(n, ast.Name):
            if n.id not in sym:
                raise SpecError("unknown symbol '%s'" % n.id)
            return sym[n.id]
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            return _OPS[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Invert):
            return ~ev(n.operand)
        raise SpecError("bad expression '%s'" % text)
    try:
        return ev(ast.parse(text.strip(), mode="eval"))
    except SyntaxError:
        raise SpecError("bad expression '%s'" % text)


WIDTHS = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q",
          "be32": ">I", "be64": ">Q"}


class Image:
    """File bytes plus the ranges edits touched, in final coordinates."""

    def __init__(self, data):
        self.b = bytearray(data)
        self.changed = []
        self.inserted = []

    def _check(self, pos, n, what):
        if pos < 0 or pos + n > len(self.b):
            raise SpecError("%s at %#x+%#x outside the %#x-byte file"
                            % (what, pos, n, len(self.b)))

    def write(self, pos, data, what):
        self._check(pos, len(data), what)
        self.b[pos:pos + len(data)] = data
        self.changed.append([pos, len(data)])

    def truncate(self, n):
        if n < 0 or n > len(self.b):
            raise SpecError("truncate to %#x: file is %#x bytes" % (n, len(self.b)))
        del self.b[n:]
        clip = lambda rs: [[p, min(l, n - p)] for p, l in rs if p < n]
        self.changed, self.inserted = clip(self.changed), clip(self.inserted)

    def insert(self, pos, data):
        self._check(pos, 0, "insert")
        self.b[pos:pos] = data
        shift = lambda rs: [[p + len(data) if p >= pos else p, l] for p, l in rs]
        self.changed, self.inserted = shift(self.changed), shift(self.inserted)
        self.inserted.append([pos, len(data)])


def apply_op(img, line, sym):
    words = line.split(None, 1)
    op, rest = words[0], words[1] if len(words) > 1 else ""
    if op == "set":
        width, _, tail = rest.partition(" ")
        pos, eq, val = tail.partition("=")
        if width not in WIDTHS or not eq:
            raise SpecError("want: set u8|u16|u32|u64|be32|be64 POS = VALUE")
        fmt = WIDTHS[width]
        v = evaluate(val, sym) & ((1 << 8 * struct.calcsize(fmt)) - 1)
        img.write(evaluate(pos, sym), struct.pack(fmt, v), "set")
    elif op == "fill" or op == "insert":
        args = rest.split(",")
        if len(args) != 3:
            raise SpecError("want: %s POS, LEN, BYTE" % op)
        pos, n, byte = (evaluate(a, sym) for a in args)
        if n < 0 or n > 1 << 24 or not 0 <= byte <= 255:
            raise SpecError("%s: bad length or byte" % op)
        if op == "fill":
            img.write(pos, bytes([byte]) * n, "fill")
        else:
            img.insert(pos, bytes([byte]) * n)
    elif op == "bytes":
        pos, _, text = rest.partition(" ")
        text = text.strip()
        if len(text) < 2 or text[0] != '"' or text[-1] != '"':
            raise SpecError('want: bytes POS "TEXT"')
        img.write(evaluate(pos, sym), text[1:-1].encode(), "bytes")
    elif op == "truncate":
        img.truncate(evaluate(rest, sym))
    else:
        raise SpecError("unknown edit '%s'" % op)


class Case:
    def __init__(self, name, desc):
        self.name, self.desc, self.base = name, desc, None
        self.ops, self.expect = [], ""


def parse_spec(path):
    cases, cur = {}, None
    with open(path) as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            where = "%s:%d" % (path, no)
            if not line[0].isspace():
                head, colon, desc = line.partition(":")
                kw, _, name = head.partition(" ")
                if kw != "case" or not colon or not name.strip():
                    raise SpecError("%s: want 'case NAME: description'" % where)
                cur = Case(name.strip(), desc.strip())
                if cur.name in cases or cur.name in BASES:
                    raise SpecError("%s: duplicate case %s" % (where, cur.name))
                cases[cur.name] = cur
                continue
            if cur is None:
                raise SpecError("%s: edit outside a case" % where)
            line = line.strip()
            if line.startswith("base "):
                cur.base = line[5:].strip()
                if cur.base not in BASES:
                    raise SpecError("%s: unknown base %s" % (where, cur.base))
            elif line.startswith("expect "):
                cur.expect = line[7:].strip()
            else:
                cur.ops.append((where, line))
    for c in cases.values():
        if c.base is None:
            raise SpecError("%s: case %s has no base" % (path, c.name))
    return cases


def build(case):
    data, sym = BASES[case.base][0]()
    img = Image(data)
    for where, line in case.ops:
        try:
            apply_op(img, line, sym)
        except SpecError as e:
            raise SpecError("%s: %s: %s" % (where, case.name, e))
    return img


def write_out(path, data):
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, ".mkbad.%d.tmp" % os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv):
    spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mkbad.cases")
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--spec":
        spec, args = args[1], args[2:]
    try:
        cases = parse_spec(spec)
        if args == ["--list"]:
            for c in cases.values():
                print("%-28s %s" % (c.name, c.desc))
            return 0
        if args == ["--bases"]:
            for n, (_, d) in BASES.items():
                print("%-28s %s" % (n, d))
            return 0
        if len(args) == 2 and args[0] == "--symbols" and args[1] in BASES:
            for k, v in sorted(BASES[args[1]][0]()[1].items()):
                print("%-20s %#x" % (k, v))
            return 0
        if len(args) == 2 and args[0] in ("--edits", "--expect"):
            c = cases.get(args[1])
            if c is None:
                raise SpecError("%s: no such case (see --list)" % args[1])
            if args[0] == "--expect":
                print(c.expect)
                return 0
            img = build(c)
            print(json.dumps({"base": c.base, "expect": c.expect,
                              "size": len(img.b),
                              "changed": img.changed, "inserted": img.inserted}))
            return 0
        if len(args) == 3 and args[0] == "--recipe":
            parts = [p.strip() for p in args[1].split(";") if p.strip()]
            if not parts or parts[0] not in BASES:
                raise SpecError("recipe must start with a base: %s"
                                % " ".join(BASES))
            c = Case("recipe", "")
            c.base = parts[0]
            c.ops = [("recipe", p) for p in parts[1:]]
            write_out(args[2], bytes(build(c).b))
            return 0
        if len(args) == 2 and not args[0].startswith("-"):
            if args[0] in BASES:
                write_out(args[1], BASES[args[0]][0]()[0])
                return 0
            c = cases.get(args[0])
            if c is None:
                raise SpecError("%s: no such case (see --list)" % args[0])
            write_out(args[1], bytes(build(c).b))
            return 0
    except SpecError as e:
        sys.stderr.write("mkbad: %s\n" % e)
        return 3
    except OSError as e:
        sys.stderr.write("mkbad: %s: %s\n" % (e.filename or spec, e.strerror))
        return 4
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
