/* SPDX-License-Identifier: MIT */
/*
 * QEMU `dump-guest-memory` ELF cores (qemu-elf.md): ELF64 and ELF32,
 * EM_X86_64 and EM_386, PT_LOAD by p_paddr, PN_XNUM, PT_NOTE with
 * NT_PRSTATUS, "QEMU" CPU-state notes and the VMCOREINFO guest note.
 */
#ifndef WDT_FORMATS_ELF_H
#define WDT_FORMATS_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"

extern const struct wdt_format wdt_format_elf;

/* Offsets and sizes (qemu-elf.md §4, §5, §7). */
#define WDT_NT_PRSTATUS 1
#define WDT_PRSTATUS64_SIZE 0x150
#define WDT_PRSTATUS64_REGS 0x70
#define WDT_PRSTATUS32_SIZE 0x90
#define WDT_PRSTATUS32_REGS 0x48
#define WDT_QEMU_CPUSTATE_MIN 0x1B0
#define WDT_QEMU_CPUSTATE_KGS 0x1B8
#define WDT_QEMU_CPUSTATE_SEGS 0x98
#define WDT_QEMU_CPUSTATE_CR 0x188
#define WDT_QEMU_SEG_SIZE 24

/*
 * Parse a PT_NOTE blob (Elf64_Nhdr records, 4-byte padding) read from
 * file_off of img->src: adds every note to img->notes and the CPU state of
 * CORE/NT_PRSTATUS and QEMU notes to img->cpus (the i-th note of each kind
 * belongs to CPU i). Lying sizes are CORRUPT with the note's offset.
 */
int wdt_elf_parse_notes(struct wdt_image *img, const uint8_t *buf, size_t len,
			uint64_t file_off, struct wdt_err *err);

#endif
