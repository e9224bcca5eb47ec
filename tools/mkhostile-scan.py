#!/usr/bin/env python3
"""mkhostile-scan — raw images whose page tables make a kernel scan costly.

    mkhostile-scan.py [--distinct] [--size MIB] OUT

Writes a raw physical-memory image (default 16 MiB) holding a Windows-like
x86-64 directory (a PML4 that maps itself from slot 0x1ED and maps
KUSER_SHARED_DATA with NtMajorVersion 10, so the DTB search succeeds) and
no Windows kernel. The whole kernel scan range 0xfffff80000000000 to
0xfffff807ffffffff (32 GiB: 32 PDPT entries, each to a page directory of
512 large-page entries) maps onto physical memory whose every page starts
with "MZ":

  default     every PDE maps the same 2 MiB frame at 0x200000, so 8,388,608
              virtual pages share 512 physical frames;
  --distinct  the PDEs map successive 2 MiB frames from 0x200000 up to the
              end of the image (wrapping), so every MZ frame is a different
              one: the scan meets as many MZ frames as the image has.

A scan that walks the address space tests 8,388,608 candidates; one that
looks at each physical frame once tests 512 (or every frame of the image).
Python 3 standard library only.
"""
import struct
import sys

PAGE = 4096
PML4, PDPT_K, PD_K, PDPT_U, PD_U, PT_U, KUSD = (
    0x100000, 0x101000, 0x102000, 0x103000, 0x104000, 0x105000, 0x106000)
SELF_SLOT = 0x1ED
KUSD_VA = 0xFFFFF78000000000
KERNEL_VA = 0xFFFFF80000000000
MZ_START = 0x200000


def idx(va, level):
    return (va >> (12 + 9 * level)) & 511


def main(argv):
    distinct, size, out = False, 16, None
    i = 0
    while i < len(argv):
        if argv[i] == "--distinct":
            distinct = True
        elif argv[i] == "--size":
            i += 1
            size = int(argv[i])
        else:
            out = argv[i]
        i += 1
    if not out or size < 4:
        sys.exit(__doc__)
    mem = bytearray(size << 20)

    def q(pa, v):
        struct.pack_into("<Q", mem, pa, v)

    q(PML4 + 8 * SELF_SLOT, PML4 | 0x63)
    # KUSER_SHARED_DATA through 4 KiB tables; version 10.0.
    q(PML4 + 8 * idx(KUSD_VA, 3), PDPT_U | 0x63)
    q(PDPT_U + 8 * idx(KUSD_VA, 2), PD_U | 0x63)
    q(PD_U + 8 * idx(KUSD_VA, 1), PT_U | 0x63)
    q(PT_U + 8 * idx(KUSD_VA, 0), KUSD | 0x63)
    struct.pack_into("<II", mem, KUSD + 0x26C, 10, 0)
    # The kernel range: 32 PDPT entries, all to one page directory.
    q(PML4 + 8 * idx(KERNEL_VA, 3), PDPT_K | 0x63)
    for e in range(32):
        q(PDPT_K + 8 * (idx(KERNEL_VA, 2) + e), PD_K | 0x63)
    nbig = (len(mem) - MZ_START) >> 21
    for e in range(512):
        frame = MZ_START + ((e % nbig) << 21 if distinct else 0)
        q(PD_K + 8 * e, frame | 0xE3)
    for pa in range(MZ_START, len(mem) if distinct else MZ_START + (2 << 20),
                    PAGE):
        mem[pa:pa + 2] = b"MZ"
    with open(out, "wb") as f:
        f.write(mem)


if __name__ == "__main__":
    main(sys.argv[1:])
