/* SPDX-License-Identifier: MIT */
/*
 * Flat physical image (`-O raw`: file offset = physical address, gaps
 * between runs are holes) and ELF core (`-O elf`: one PT_LOAD per merged
 * page-granular run, p_paddr = physical address, the image's notes copied
 * into one PT_NOTE) writers. Same body loop, patches, sparseness and
 * progress as the DMP writer (dmpwrite.h); the result's dump_type is 0.
 */
#ifndef WDT_FORMATS_RAWWRITE_H
#define WDT_FORMATS_RAWWRITE_H

#include "formats/dmpwrite.h"

/*
 * Write img as a raw image to of (not committed here). With !o->sparse the
 * gaps between runs are written as zeros too. r may be NULL.
 */
int wdt_raw_write(struct wdt_image *img, const struct wdt_dmp_patch *p,
		  size_t np, const struct wdt_dmp_write_opts *o,
		  struct wdt_outfile *of, struct wdt_dmp_write_result *r,
		  struct wdt_err *err);

/*
 * Write img as an x86-64 ELF core (ET_CORE, EM_X86_64) to of. More than
 * 65534 runs use PN_XNUM (the count in section header 0's sh_info).
 */
int wdt_elf_write(struct wdt_image *img, const struct wdt_dmp_patch *p,
		  size_t np, const struct wdt_dmp_write_opts *o,
		  struct wdt_outfile *of, struct wdt_dmp_write_result *r,
		  struct wdt_err *err);

#endif
