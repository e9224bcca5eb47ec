/* SPDX-License-Identifier: MIT */
/* Fuzz target: the libvirt save-image reader (header, XML, stream) over an
 * in-memory source: open, read the ends of every run, read the first pages
 * through a page reader with and without zero flags. */
#include <stdlib.h>

#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_image *img =
	    size > FUZZ_MAX_LEN ? NULL : fuzz_open_image(data, size, "libvirt");

	if (!img)
		return 0;
	if (img->nruns) {
		uint64_t pa = img->runs[0].pa & ~(uint64_t)(WDT_PAGE_SIZE - 1);
		uint8_t *buf = malloc(4 * WDT_PAGE_SIZE);
		uint8_t zero[4];
		struct wdt_image_reader *r = wdt_image_reader_new(img, &err);
		if (buf && r) {
			wdt_image_reader_read(r, pa, 4, buf, NULL, &err);
			wdt_image_reader_read(r, pa, 4, buf, zero, &err);
		}
		wdt_image_reader_free(r);
		free(buf);
	}
	wdt_image_close(img);
	return 0;
}
