/* SPDX-License-Identifier: MIT */
/* Fuzz target: the kdump reader (flattened or not) over an in-memory
 * source: open, read the ends of every run, bulk-read the first pages. */
#include <stdint.h>
#include <stdlib.h>

#include "core/source.h"
#include "formats/kdump.h"
#include "formats/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_source *src = wdt_source_open_mem(data, size, "fuzz", &err);
	struct wdt_image *img;
	uint8_t page[64];

	if (!src)
		return 0;
	img = wdt_image_open_source(src, "kdump", &err);
	if (!img)
		return 0;
	for (size_t i = 0; i < img->nruns && i < 64; i++) {
		const struct wdt_run *r = &img->runs[i];
		size_t n = r->len < sizeof(page) ? (size_t)r->len : sizeof(page);
		wdt_image_read_phys(img, r->pa, page, n, &err);
		wdt_image_read_phys(img, r->pa + r->len - n, page, n, &err);
	}
	uint32_t bs = wdt_kdump_block_size(img);
	if (bs && img->nruns) {
		uint64_t pfn = img->runs[0].pa / bs;
		size_t n = img->runs[0].len / bs < 4 ? img->runs[0].len / bs : 4;
		uint8_t *buf = malloc((size_t)bs * n + 1);
		if (buf)
			wdt_kdump_read_pages(img, pfn, n, buf, 2, &err);
		free(buf);
	}
	wdt_image_close(img);
	return 0;
}
