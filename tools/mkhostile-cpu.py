#!/usr/bin/env python3
"""mkhostile-cpu — copies of a dump with its CPU state damaged.

    mkhostile-cpu.py --list          the damages, one per line
    mkhostile-cpu.py DAMAGE IN OUT   copy IN to OUT with DAMAGE applied

IN is a QEMU ELF core (every CPU's QEMU CPU-state note and NT_PRSTATUS are
damaged) or a 64-bit DMP (its header ContextRecord is damaged). The memory,
page tables and control registers stay as they are, so the kernel is still
found; only the registers a DMP's contexts are made from are garbage.
Python 3 standard library only; offsets from ../shared/spec (qemu-elf.md
§4, §7; dmp64.md).
"""
import os
import shutil
import struct
import sys

FILL = 0x4547415045474150  # 'PAGEPAGE'
NONCANON = 0x0000800000001000

# register -> (QEMUCPUState offset, NT_PRSTATUS pr_reg offset, DMP CONTEXT
# offset, width)
REGS = {
    "rip": (0x88, 16 * 8, 0xF8, 8),
    "rsp": (0x38, 19 * 8, 0x78 + 4 * 8, 8),
    "cs": (0x98, 17 * 8, 0x38, 2),
    "ss": (0x98 + 5 * 24, 20 * 8, 0x42, 2),
}
DAMAGES = {
    "rip-fill": ("Rip is the 'PAGE' fill", [("rip", FILL)]),
    "rip-noncanon": ("Rip is not canonical", [("rip", NONCANON)]),
    "rsp-noncanon": ("Rsp is not canonical", [("rsp", NONCANON)]),
    "cs-bad": ("CS is 0x23 (32-bit user code)", [("cs", 0x23)]),
    "ss-bad": ("SS is 0x1234", [("ss", 0x1234)]),
    "all-fill": ("Rip, Rsp, CS, SS all the 'PAGE' fill",
                 [("rip", FILL), ("rsp", FILL), ("cs", 0x4150),
                  ("ss", 0x4150)]),
}
DMP_ONLY = {
    "ctx-byte": "a 'PAGE'-filled ContextRecord with one byte changed",
}
PRSTATUS_REGS = 0x70
DMP_CONTEXT = 0x348


def put(buf, off, width, value):
    fmt = "<Q" if width == 8 else "<H"
    struct.pack_into(fmt, buf, off, value & ((1 << (8 * width)) - 1))


def elf_notes(f):
    """(name, type, descriptor file offset, size) of every note of an ELF64."""
    f.seek(0)
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
    f.seek(phoff)
    ph = f.read(phentsize * phnum)
    for i in range(phnum):
        p = i * phentsize
        ptype, = struct.unpack_from("<I", ph, p)
        if ptype != 4:  # PT_NOTE
            continue
        off, = struct.unpack_from("<Q", ph, p + 8)
        size, = struct.unpack_from("<Q", ph, p + 32)
        f.seek(off)
        buf = f.read(size)
        o = 0
        while o + 12 <= len(buf):
            namesz, descsz, ntype = struct.unpack_from("<III", buf, o)
            name = bytes(buf[o + 12:o + 12 + namesz]).rstrip(b"\0")
            desc = o + 12 + ((namesz + 3) & ~3)
            yield name, ntype, off + desc, descsz
            o = desc + ((descsz + 3) & ~3)


def poke(f, off, width, value):
    b = bytearray(width)
    put(b, 0, width, value)
    f.seek(off)
    f.write(b)


def damage_elf(f, edits):
    n = 0
    for name, ntype, desc, size in list(elf_notes(f)):
        for reg, value in edits:
            q, pr, _, w = REGS[reg]
            if name == b"QEMU" and ntype == 0 and size >= 0x1B0:
                poke(f, desc + q, w, value)
                n += 1
            elif name == b"CORE" and ntype == 1 and size == 0x150:
                poke(f, desc + PRSTATUS_REGS + pr, 8, value)
                n += 1
    if not n:
        sys.exit("mkhostile-cpu: no CPU notes in the ELF")


def damage_dmp(f, damage, edits):
    if damage == "ctx-byte":
        ctx = bytearray(b"PAGE" * 750)
        ctx[0x100] ^= 1
        f.seek(DMP_CONTEXT)
        f.write(ctx)
        return
    for reg, value in edits:
        _, _, c, w = REGS[reg]
        poke(f, DMP_CONTEXT + c, w, value)


def main(argv):
    if argv == ["--list"]:
        for k, (d, _) in DAMAGES.items():
            print("%-13s %s" % (k, d))
        for k, d in DMP_ONLY.items():
            print("%-13s %s (DMP only)" % (k, d))
        return
    if len(argv) != 3 or (argv[0] not in DAMAGES and argv[0] not in DMP_ONLY):
        sys.exit(__doc__)
    damage, src, out = argv
    with open(src, "rb") as f:
        magic = f.read(8)
    edits = DAMAGES.get(damage, ("", []))[1]
    if magic[:4] == b"\x7fELF":
        if damage in DMP_ONLY:
            sys.exit("mkhostile-cpu: %s is for DMPs" % damage)
    elif magic != b"PAGEDU64":
        sys.exit("mkhostile-cpu: %s is neither an ELF core nor a DMP64" % src)
    shutil.copyfile(src, out)
    os.chmod(out, 0o644)
    with open(out, "r+b") as f:
        if magic[:4] == b"\x7fELF":
            damage_elf(f, edits)
        else:
            damage_dmp(f, damage, edits)


if __name__ == "__main__":
    main(sys.argv[1:])
