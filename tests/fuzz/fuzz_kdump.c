/* SPDX-License-Identifier: MIT */
/* Fuzz target: the kdump reader (flattened or not) over an in-memory
 * source: open, read the ends of every run, bulk-read the first pages,
 * read them again through a pager with zero flags. */
#include <stdlib.h>

#include "formats/kdump.h"
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_image *img =
		size > FUZZ_MAX_LEN ? NULL : fuzz_open_image(data, size, "kdump");

	if (!img)
		return 0;
	uint32_t bs = wdt_kdump_block_size(img);
	if (bs && img->nruns) {
		uint64_t pfn = img->runs[0].pa / bs;
		size_t n = img->runs[0].len / bs < 4 ? img->runs[0].len / bs : 4;
		uint8_t *buf = malloc((size_t)bs * n + 1);
		uint8_t zero[4];
		struct wdt_kdump_pager *pg = wdt_kdump_pager_new(img, &err);
		if (buf)
			wdt_kdump_read_pages(img, pfn, n, buf, 2, &err);
		if (buf && pg)
			wdt_kdump_pager_read(pg, pfn, n, buf, zero, &err);
		wdt_kdump_pager_free(pg);
		free(buf);
	}
	wdt_image_close(img);
	return 0;
}
