/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the DMP reader and the parsers `wdt verify` uses, over an
 * in-memory source: header, run checks, bitmap header, bitmap walk; then
 * every check of `wdt verify` (symbols/dmpcheck.c) over the same bytes.
 */
#include <stdlib.h>

#include "fuzz_image.h"

#include "formats/dmp.h"
#include "symbols/dmpcheck.h"

static void check_all(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_dmpcheck *r = malloc(sizeof(*r));
	struct wdt_source *src = wdt_source_open_mem(data, size, "fuzz", &err);

	if (r && src)
		wdt_dmpcheck_run(src, NULL, r, &err); /* takes src over */
	else
		wdt_source_close(src);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_dmp_hdr h;
	struct wdt_dmp_bitmap b;
	struct wdt_err err;
	uint64_t pages, pop;

	wdt_image_close(fuzz_open_image(data, size, "dmp"));
	check_all(data, size);
	if (wdt_dmp_parse_header(data, size, &h, &err) < 0)
		return 0;
	wdt_dmp_check_runs(&h, &pages, &err);
	if (size < WDT_DMP64_HDR_SIZE ||
	    wdt_dmp_parse_bitmap(data + WDT_DMP64_HDR_SIZE,
				 size - WDT_DMP64_HDR_SIZE, &b, &err) < 0 ||
	    wdt_dmp_check_bitmap(&b, size, &err) < 0)
		return 0;
	struct wdt_source *src = wdt_source_open_mem(data, size, "fuzz", &err);
	if (src) {
		wdt_dmp_bitmap_walk(src, &b, NULL, NULL, &pop, &err);
		wdt_source_close(src);
	}
	return 0;
}
