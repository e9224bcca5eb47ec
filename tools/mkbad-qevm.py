#!/usr/bin/env python3
"""mkbad-qevm.py: damage a QEMU migration stream in one named way.

Usage: tools/mkbad-qevm.py CASE IN.qevm OUT.qevm

Walks the stream's records up to the first device section (layout:
../shared/spec/qemu-migration.md §1-2) and writes a copy with one fault:
  truncate-ram      cut in the middle of the RAM section
  truncate-devices  cut right after the RAM section (no CPU state)
  unknown-record    the first device section's type byte becomes 0x5a
  xbzrle, compress  a page record gets the XBZRLE / COMPRESS_PAGE flag
  machine-virt      the machine type becomes a non-PC one
  block-past-end    a page record's offset is the block's length
  missing-page      a zero-page record names the page before it instead
  version-2         stream version 2
  resend            main-RAM pages 0x200 (0xa5 bytes) and 0x201 (a ZERO
                    record with fill 0x5a) sent again at the start of the
                    RAM END section: a valid stream whose last copy wins
Python 3 standard library only.
"""
import struct
import sys

RF_ZERO, RF_MEM_SIZE, RF_PAGE, RF_EOS, RF_CONTINUE = 0x02, 0x04, 0x08, 0x10, 0x20


def walk(b):
    """Return (machine name offset, records, ram_end, first device offset).

    records: dicts with kind 'page'/'zero', 'at' (offset of be64 addr_flags),
    'block', 'page' (index), 'cont'; END section header offsets in 'ends'."""
    assert b[:4] == b"QEVM", "not a QEVM stream"
    pos = 8
    recs, ends, blocks = [], [], {}
    cfg = None
    ram_end = None

    def idstr(p):
        n = b[p]
        return b[p + 1:p + 1 + n].decode(), p + 1 + n

    def ram(p):
        cur = None
        while True:
            af, = struct.unpack_from(">Q", b, p)
            at, p = p, p + 8
            fl, addr = af & 0xFFF, af & ~0xFFF
            if fl & RF_EOS:
                return p
            if fl & RF_MEM_SIZE:
                tot = 0
                while tot < addr:
                    name, p = idstr(p)
                    ln, = struct.unpack_from(">Q", b, p)
                    p += 8
                    blocks[name] = ln
                    tot += ln
                continue
            if not fl & RF_CONTINUE:
                cur, p = idstr(p)
            kind = "zero" if fl & RF_ZERO else "page"
            recs.append({"kind": kind, "at": at, "block": cur, "page": addr >> 12,
                         "cont": bool(fl & RF_CONTINUE)})
            p += 1 if kind == "zero" else 4096

    while True:
        t = b[pos]
        if t == 0x07:
            ln, = struct.unpack_from(">I", b, pos + 1)
            cfg = (pos + 5, ln)
            pos += 5 + ln
        elif t in (0x01, 0x04):
            name, p = idstr(pos + 5)
            if name != "ram" or t == 0x04:
                return cfg, recs, ends, blocks, ram_end, pos
            pos = ram(p + 8)
        elif t in (0x02, 0x03):
            if t == 0x03:
                ends.append(pos)
            pos = ram(pos + 5)
            if t == 0x03:
                ram_end = pos
        elif t == 0x7E:
            pos += 5
        else:
            raise SystemExit("mkbad-qevm.py: record 0x%02x at %#x not expected" % (t, pos))


def main():
    case, src, dst = sys.argv[1:4]
    b = bytearray(open(src, "rb").read())
    cfg, recs, ends, blocks, ram_end, dev = walk(b)
    main_block = max(blocks, key=lambda k: blocks[k])
    pages = [r for r in recs if r["kind"] == "page" and r["block"] == main_block]

    def set_flags(r, extra):
        af, = struct.unpack_from(">Q", b, r["at"])
        struct.pack_into(">Q", b, r["at"], af | extra)

    if case == "truncate-ram":
        b = b[:recs[len(recs) // 2]["at"] + 100]
    elif case == "truncate-devices":
        b = b[:dev]
    elif case == "unknown-record":
        b[dev] = 0x5A
    elif case == "xbzrle":
        set_flags(pages[len(pages) // 2], 0x40)
    elif case == "compress":
        set_flags(pages[len(pages) // 2], 0x100)
    elif case == "machine-virt":
        off, ln = cfg
        b[off:off + ln] = (b"virt-" + b"x" * ln)[:ln]
    elif case == "block-past-end":
        r = pages[len(pages) // 2]
        af, = struct.unpack_from(">Q", b, r["at"])
        struct.pack_into(">Q", b, r["at"], blocks[main_block] | (af & 0xFFF))
    elif case == "missing-page":
        z = [r for r in recs if r["kind"] == "zero" and r["block"] == main_block and r["page"] > 0x300]
        r = z[len(z) // 2]
        af, = struct.unpack_from(">Q", b, r["at"])
        struct.pack_into(">Q", b, r["at"], ((r["page"] - 1) << 12) | (af & 0xFFF))
    elif case == "version-2":
        struct.pack_into(">I", b, 4, 2)
    elif case == "resend":
        name = main_block.encode()
        ins = struct.pack(">Q", (0x200 << 12) | RF_PAGE) + bytes([len(name)]) + name + b"\xa5" * 4096
        ins += struct.pack(">Q", (0x201 << 12) | RF_ZERO | RF_CONTINUE) + b"\x5a"
        at = ends[-1] + 5
        b[at:at] = ins
    else:
        raise SystemExit("mkbad-qevm.py: unknown case %s" % case)
    with open(dst, "wb") as f:
        f.write(b)


if __name__ == "__main__":
    main()
