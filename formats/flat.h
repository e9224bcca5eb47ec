/* SPDX-License-Identifier: MIT */
/*
 * makedumpfile's flattened layout (kdump.md §7) as a byte source wrapping a
 * byte source: the records are indexed once on open into a sorted interval
 * map (target offset -> position in the flattened file; later records win
 * over earlier overlapping ones); bytes no record wrote read as zero.
 * The file is never rewritten. The index costs 24 bytes per surviving
 * extent (about one per record) and is capped (below); see
 * docs/formats-kdump.md.
 */
#ifndef WDT_FORMATS_FLAT_H
#define WDT_FORMATS_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"

#define WDT_FLAT_HDR_SIZE 4096u /* makedumpfile_header block */
#define WDT_FLAT_SIG "makedumpfile"
#define WDT_FLAT_SIG_LEN 12u
#define WDT_FLAT_OFF_TYPE 16u	 /* BE i64, TYPE_FLAT_HEADER = 1 */
#define WDT_FLAT_OFF_VERSION 24u /* BE i64, 1 */
#define WDT_FLAT_REC_HDR 16u	 /* BE i64 offset, BE i64 buf_size */

/*
 * The index cap: WDT_FLAT_FREE_RECORDS records, plus one per
 * WDT_FLAT_MIN_RECORD_FILE bytes of file; more is UNSUPPORTED. Opening
 * costs ≈ 88 bytes per record at its peak, so at most ≈ 5.5 MiB plus
 * 9 % of the file. QEMU and makedumpfile write records of several KiB
 * (QEMU: 16 KiB data caches, page-sized bitmap pieces), so real files sit
 * far below the cap; 1-byte records (17 bytes of file each) hit it.
 */
#define WDT_FLAT_FREE_RECORDS 65536u
#define WDT_FLAT_MIN_RECORD_FILE 1024u

/* True when head (len bytes) starts with the flattened signature. */
bool wdt_flat_probe(const uint8_t *head, size_t len);

/*
 * Check the 4096-byte makedumpfile_header at the start of buf: signature,
 * type 1, version 1. Pure; shared with `verify`.
 */
int wdt_flat_check_header(const uint8_t *buf, size_t len, struct wdt_err *err);

/*
 * Index the flattened file `inner` and return a source reading the
 * rearranged dump. On success the new source owns inner; on failure inner
 * is untouched (the caller still owns it). Reads through the returned
 * source are thread-safe when inner's are.
 */
struct wdt_source *wdt_flat_open(struct wdt_source *inner, struct wdt_err *err);

/* Facts for `info`: records seen and extents kept (0 if src is not ours). */
bool wdt_flat_is(const struct wdt_source *src);
uint64_t wdt_flat_records(const struct wdt_source *src);
uint64_t wdt_flat_extents(const struct wdt_source *src);

#endif
