#!/usr/bin/env python3
"""DMP helpers for the t08* integration tests, written from dmp64.md and
x86-64-paging.md without any wdt code, so a wdt bug cannot hide itself.

  va2off DMP VA             file offset of a kernel VA in a full DMP
  rd DMP VA FMT             struct.unpack FMT at VA, printed in hex
  patch DMP UNDO OFF:FMT:VAL...   write values (FMT: Q I H B or s for text),
                            appending the old bytes to UNDO
  undo DMP UNDO             put the old bytes back (newest first)
  codes JSON                the findings of `wdt verify --json` as sorted
                            "code:severity" words
  tobitmap FULL OUT [DROP]  a DumpType 5 (FDMP) copy of a full DMP holding
                            every page except the PFNs in DROP (comma list)
"""
import json
import struct
import sys

PAGE = 4096


def header(f):
    f.seek(0)
    return f.read(0x2000)


def runs_of(h):
    n, = struct.unpack_from("<I", h, 0x88)
    out, off = [], 0x2000
    for i in range(n):
        base, cnt = struct.unpack_from("<QQ", h, 0x98 + 16 * i)
        out.append((base, cnt, off))
        off += cnt * PAGE
    return out


def pa2off(runs, pa):
    for base, cnt, off in runs:
        if base * PAGE <= pa < (base + cnt) * PAGE:
            return off + pa - base * PAGE
    raise SystemExit("physical 0x%x not in the dump" % pa)


def va2off(f, va):
    h = header(f)
    runs = runs_of(h)
    table, = struct.unpack_from("<Q", h, 0x10)
    table &= 0x000FFFFFFFFFF000
    for level, shift in enumerate((39, 30, 21, 12)):
        f.seek(pa2off(runs, table + ((va >> shift) & 0x1FF) * 8))
        e, = struct.unpack("<Q", f.read(8))
        if not e & 1:
            raise SystemExit("VA 0x%x not mapped at level %d" % (va, 4 - level))
        if level in (1, 2) and e & 0x80:
            mask = (1 << shift) - 1
            base = e & 0x000FFFFFFFFFF000 & ~mask
            return pa2off(runs, base + (va & mask))
        table = e & 0x000FFFFFFFFFF000
    return pa2off(runs, table + (va & 0xFFF))


def patch(path, undo, edits):
    with open(path, "r+b") as f, open(undo, "a") as u:
        for e in edits:
            off, fmt, val = e.split(":", 2)
            off = int(off, 0)
            data = val.encode() if fmt == "s" else struct.pack("<" + fmt, int(val, 0))
            f.seek(off)
            old = f.read(len(data))
            u.write(json.dumps([off, old.hex()]) + "\n")
            f.seek(off)
            f.write(data)


def undo(path, undo_path):
    with open(undo_path) as u:
        recs = [json.loads(l) for l in u if l.strip()]
    with open(path, "r+b") as f:
        for off, old in reversed(recs):
            f.seek(off)
            f.write(bytes.fromhex(old))
    open(undo_path, "w").close()


def tobitmap(src, dst, drop):
    with open(src, "rb") as f:
        h = bytearray(header(f))
        runs = runs_of(h)
        top = max(b + c for b, c, _ in runs)
        present = [False] * top
        for b, c, _ in runs:
            for p in range(b, b + c):
                present[p] = p not in drop
        bitmap = bytearray((top + 7) // 8)
        for p, on in enumerate(present):
            if on:
                bitmap[p >> 3] |= 1 << (p & 7)
        npresent = sum(present)
        first = (0x2038 + len(bitmap) + PAGE - 1) // PAGE * PAGE
        sub = bytearray(first - 0x2000)
        sub[0:8] = b"FDMPDUMP"
        struct.pack_into("<QQQ", sub, 0x20, first, npresent, top)
        sub[0x38:0x38 + len(bitmap)] = bitmap
        struct.pack_into("<I", h, 0xF98, 5)
        struct.pack_into("<q", h, 0xFA0, first + npresent * PAGE)
        h[0x88:0x88 + 700] = b"PAGE" * 175  # left unset, as Windows does
        with open(dst, "wb") as o:
            o.write(h)
            o.write(sub)
            for p in range(top):
                if present[p]:
                    f.seek(pa2off(runs, p * PAGE))
                    o.write(f.read(PAGE))


def main(a):
    if a[0] == "va2off":
        with open(a[1], "rb") as f:
            print(hex(va2off(f, int(a[2], 0))))
    elif a[0] == "rd":
        with open(a[1], "rb") as f:
            f.seek(va2off(f, int(a[2], 0)))
            fmt = "<" + a[3]
            print(" ".join(hex(x) for x in struct.unpack(fmt, f.read(struct.calcsize(fmt)))))
    elif a[0] == "patch":
        patch(a[1], a[2], a[3:])
    elif a[0] == "undo":
        undo(a[1], a[2])
    elif a[0] == "codes":
        d = json.load(open(a[1]))
        print(" ".join(sorted("%s:%s" % (x["code"], x["severity"]) for x in d["findings"])))
    elif a[0] == "tobitmap":
        drop = {int(x, 0) for x in a[3].split(",")} if len(a) > 3 and a[3] else set()
        tobitmap(a[1], a[2], drop)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
