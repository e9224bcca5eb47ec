#!/usr/bin/env python3
"""mkqevm-seed.py: a tiny synthetic QEMU migration stream (fuzz seeds, tests).

Usage: tools/mkqevm-seed.py OUT [--json] [--cpus N] [--ram-kib K] [--machine M]

Layout as qemu-migration.md §1-4: 'QEVM' v3, a configuration record, a
"ram" START (block list, then ZERO/PAGE records), a PART, an END, one
"cpu" FULL section per CPU in QEMU 7.x's vmstate_x86_cpu layout (only the
fields wdt reads are non-zero), EOF, and with --json the VM description.
"""
import argparse
import json
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--json", action="store_true")
p.add_argument("--cpus", type=int, default=1)
p.add_argument("--ram-kib", type=int, default=128)
p.add_argument("--machine", default="pc-i440fx-7.2")
a = p.parse_args()

be32 = lambda v: struct.pack(">I", v)
be64 = lambda v: struct.pack(">Q", v)
ids = lambda s: bytes([len(s)]) + s.encode()
ram = a.ram_kib * 1024
out = b"QEVM" + be32(3)
out += b"\x07" + be32(len(a.machine)) + a.machine.encode()
out += b"\x01" + be32(0) + ids("ram") + be32(0) + be32(4)
out += be64(ram | 0x04) + ids("pc.ram") + be64(ram)
npages = ram // 4096
for pg in range(npages // 2):
    if pg % 5 == 1:
        out += be64(pg << 12 | 0x08 | (0x20 if pg else 0)) + (b"" if pg else ids("pc.ram"))
        out += bytes([pg & 0xFF]) * 4096
    else:
        out += be64(pg << 12 | 0x02 | (0x20 if pg else 0)) + (b"" if pg else ids("pc.ram")) + b"\0"
out += be64(0x10) + b"\x7e" + be32(0)
out += b"\x02" + be32(0)
for pg in range(npages // 2, npages):
    out += be64(pg << 12 | 0x02 | 0x20) + b"\0"
out += be64(0x10) + b"\x7e" + be32(0)
out += b"\x03" + be32(0) + be64(0x10) + b"\x7e" + be32(0)
layout = [("env.regs", 8, 16), ("env.eip", 8, 1), ("env.eflags", 8, 1), ("env.hflags", 4, 1),
          ("env.fpuc", 2, 1), ("env.fpus_vmstate", 2, 1), ("env.fptag_vmstate", 2, 1),
          ("env.fpregs_format_vmstate", 2, 1), ("env.fpregs", 10, 8), ("env.segs", 20, 6),
          ("env.ldt", 20, 1), ("env.tr", 20, 1), ("env.gdt", 20, 1), ("env.idt", 20, 1),
          ("env.sysenter_cs", 4, 1), ("env.sysenter_esp", 8, 1), ("env.sysenter_eip", 8, 1),
          ("env.cr[0]", 8, 1), ("env.cr[2]", 8, 1), ("env.cr[3]", 8, 1), ("env.cr[4]", 8, 1),
          ("env.dr", 8, 8), ("env.a20_mask", 4, 1), ("env.mxcsr", 4, 1),
          ("env.xmm_regs[0]", 16, 16), ("env.efer", 8, 1), ("env.star", 8, 1),
          ("env.lstar", 8, 1), ("env.cstar", 8, 1), ("env.fmask", 8, 1),
          ("env.kernelgsbase", 8, 1)]
devices = []
for c in range(a.cpus):
    body = b""
    for name, size, n in layout:
        for i in range(n):
            if name == "env.regs":
                body += be64(0x1000 * (c + 1) + i)
            elif name == "env.eip":
                body += be64(0xFFFFF80000001000 + c)
            elif name == "env.segs":
                body += be32(0x10 + i * 8) + be64(0) + be32(0xFFFFFFFF) + be32(0x209B00 if i == 1 else 0xCF9300)
            elif name == "env.cr[3]":
                body += be64(0x1000)
            elif name == "env.efer":
                body += be64(0xD01)
            else:
                body += bytes(size)
    body += bytes(64)  # fields wdt does not read
    out += b"\x04" + be32(1 + c) + ids("cpu") + be32(c) + be32(12) + body + b"\x7e" + be32(1 + c)
    devices.append({"name": "cpu", "instance_id": c, "vmsd_name": "cpu", "version": 12,
                    "fields": [dict({"name": n, "type": "uint64", "size": s}, **({"array_len": k} if k > 1 else {}))
                               for n, s, k in layout] + [{"name": "rest", "type": "buffer", "size": 64}]})
out += b"\x00"
if a.json:
    js = json.dumps({"page_size": 4096, "devices": devices}).encode()
    out += b"\x06" + be32(len(js)) + js
open(a.out, "wb").write(out)
