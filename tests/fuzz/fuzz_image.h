/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets of image formats: open the input as format
 * `fmt` over a memory source and read both ends of (up to 64) runs, so the
 * run-to-file mapping the reader built is exercised, not just its parser.
 * Returns the open image (caller closes) or NULL.
 */
#ifndef WDT_FUZZ_IMAGE_H
#define WDT_FUZZ_IMAGE_H

#include <stdint.h>

#include "core/source.h"
#include "formats/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Inputs above this are skipped (tools/run-fuzz.sh passes the same
 * -max_len): every committed seed is smaller, and big inputs only slow the
 * search down (a kdump's page cache and bulk windows scale with it).
 */
#define FUZZ_MAX_LEN 65536u

static struct wdt_image *fuzz_open_image(const uint8_t *data, size_t size,
					 const char *fmt)
{
	struct wdt_err err;
	struct wdt_source *src = wdt_source_open_mem(data, size, "fuzz", &err);
	struct wdt_image *img;
	uint8_t page[64];

	if (!src)
		return NULL;
	img = wdt_image_open_source(src, fmt, &err);
	if (!img)
		return NULL;
	for (size_t i = 0; i < img->nruns && i < 64; i++) {
		const struct wdt_run *r = &img->runs[i];
		size_t n =
		    r->len < sizeof(page) ? (size_t)r->len : sizeof(page);
		wdt_image_read_phys(img, r->pa, page, n, &err);
		wdt_image_read_phys(img, r->pa + r->len - n, page, n, &err);
	}
	return img;
}

#endif
