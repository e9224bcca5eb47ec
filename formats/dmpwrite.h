/* SPDX-License-Identifier: MIT */
/*
 * Streaming writers of guest physical memory: the Windows crash dump
 * (DumpType 1 full or 5 bitmap, dmp64.md §2–§7, §14) here, the flat raw
 * image and ELF core in rawwrite.h. All of them run the one body loop
 * below, for every input format: o->threads workers, each with its own
 * image reader (wdt_image_reader_*), take 1 MiB units of page-granular
 * spans, read them (zero pages flagged by the reader), lay the caller's
 * patches over them and write their data pages themselves, all-zero
 * pages left as holes when sparse. Memory is one unit buffer plus one
 * reader per worker and the span list, whatever the image size; no
 * per-page system calls.
 */
#ifndef WDT_FORMATS_DMPWRITE_H
#define WDT_FORMATS_DMPWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/image.h"
#include "core/outfile.h"
#include "core/progress.h"

/* len bytes of data replace guest memory at physical address pa. */
struct wdt_dmp_patch {
	uint64_t pa;
	uint32_t len;
	const uint8_t *data;
};

enum wdt_dmp_kind { WDT_DMP_AUTO, WDT_DMP_FULL, WDT_DMP_BITMAP };

struct wdt_dmp_write_opts {
	enum wdt_dmp_kind kind; /* AUTO: full when the runs fit (≤ 42) */
	bool sparse;		/* all-zero pages become holes */
	unsigned threads;	/* body workers; 0 = online CPUs */
	struct wdt_progress *progress; /* may be NULL; not finished here */
};

struct wdt_dmp_write_result {
	uint32_t dump_type;  /* 1 or 5 (0 for raw, ELF) */
	uint32_t nruns;	     /* merged page-granular runs written */
	uint64_t pages;	     /* pages in the body */
	uint64_t zero_pages; /* of them all-zero (holes when sparse) */
	uint64_t file_size;
};

/* The unit a body worker reads and writes at once. */
#define WDT_DMPW_UNIT (1u << 20)

/*
 * Write a DMP of img to of. hdr is the WDT_DMP64_HDR_SIZE-byte
 * DUMP_HEADER64 the caller filled; this sets in it, and writes:
 * PhysicalMemoryBlock (full; the caller's bytes after the last run and
 * the padding at 0x8C are kept) or a 'PAGE' fill of it (bitmap), DumpType,
 * RequiredDumpSpace (= the file size), and for a bitmap the FDMP header
 * at 0x2000. Patches (np of them, any order, later ones win where they
 * overlap) must lie inside the written memory. FULL with more than 42
 * runs is refused (UNSUPPORTED); AUTO then writes a bitmap dump. Does not
 * commit of. Errors name the physical address (reads: the failing page,
 * with the reader's status) or the output offset (status OUTPUT); the
 * caller prefixes the output's name. r may be NULL.
 */
int wdt_dmp_write(struct wdt_image *img, uint8_t *hdr,
		  const struct wdt_dmp_patch *p, size_t np,
		  const struct wdt_dmp_write_opts *o, struct wdt_outfile *of,
		  struct wdt_dmp_write_result *r, struct wdt_err *err);

/* ---- the shared body loop (also used by rawwrite.c) ---- */

/* A page-granular guest range and where it goes in the output. */
struct wdt_span {
	uint64_t pa;  /* page aligned */
	uint64_t len; /* page multiple, > 0 */
	uint64_t off; /* output file offset */
};

/*
 * img's runs widened to whole pages and merged where they touch or share a
 * page; off is 0. *spans is malloc'd (caller frees; NULL when n is 0).
 */
int wdt_dmpw_spans(const struct wdt_image *img, struct wdt_span **spans,
		   size_t *n, struct wdt_err *err);

/*
 * Check that every patch lies inside the spans: NO_DATA naming the first
 * byte of a patch that does not.
 */
int wdt_dmpw_check_patches(const struct wdt_span *s, size_t n,
			   const struct wdt_dmp_patch *p, size_t np,
			   struct wdt_err *err);

/*
 * Copy each span's guest memory to its offset in of (bytes outside the
 * image's runs, i.e. the widening, read as zero), with the patches laid
 * over it. All-zero pages are counted in *zero_pages and, if o->sparse,
 * left as holes (wdt_outfile_hole). Progress, if any, counts span bytes
 * on top of *done. Workers: o->threads (0: one per online CPU), one for a
 * stream output (units in order) or a serial source. A read error is the
 * one of the lowest failing unit, naming its page.
 */
int wdt_dmpw_body(struct wdt_image *img, const struct wdt_span *s, size_t n,
		  const struct wdt_dmp_patch *p, size_t np,
		  const struct wdt_dmp_write_opts *o, struct wdt_outfile *of,
		  uint64_t *done, uint64_t *zero_pages, struct wdt_err *err);

#endif
