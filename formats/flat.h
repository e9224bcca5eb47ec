/* SPDX-License-Identifier: MIT */
/*
 * makedumpfile's flattened layout (kdump.md §7) as a byte source wrapping a
 * byte source: the records are indexed once on open into a sorted interval
 * map (target offset -> position in the flattened file; later records win
 * over earlier overlapping ones); bytes no record wrote read as zero.
 * The file is never rewritten. The index costs 24 bytes per surviving
 * extent (about one per record); see docs/formats-kdump.md.
 */
#ifndef WDT_FORMATS_FLAT_H
#define WDT_FORMATS_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/source.h"

#define WDT_FLAT_HDR_SIZE 4096u	 /* makedumpfile_header block */
#define WDT_FLAT_SIG "makedumpfile"
#define WDT_FLAT_SIG_LEN 12u
#define WDT_FLAT_OFF_TYPE 16u	 /* BE i64, TYPE_FLAT_HEADER = 1 */
#define WDT_FLAT_OFF_VERSION 24u /* BE i64, 1 */
#define WDT_FLAT_REC_HDR 16u	 /* BE i64 offset, BE i64 buf_size */

/* True when head (len bytes) starts with the flattened signature. */
bool wdt_flat_probe(const uint8_t *head, size_t len);

/*
 * Check the 4096-byte makedumpfile_header at the start of buf: signature,
 * type 1, version 1. Pure; shared with `verify`.
 */
int wdt_flat_check_header(const uint8_t *buf, size_t len,
			  struct wdt_err *err);

/*
 * Index the flattened file `inner` and return a source reading the
 * rearranged dump. On success the new source owns inner; on failure inner
 * is untouched (the caller still owns it). Reads through the returned
 * source are thread-safe when inner's are.
 */
struct wdt_source *wdt_flat_open(struct wdt_source *inner,
				 struct wdt_err *err);

/* Facts for `info`: records seen and extents kept (0 if src is not ours). */
bool wdt_flat_is(const struct wdt_source *src);
uint64_t wdt_flat_records(const struct wdt_source *src);
uint64_t wdt_flat_extents(const struct wdt_source *src);

#endif
