/* SPDX-License-Identifier: MIT */
/* Fuzz target: the ELF core reader, over an in-memory source. */
#include <stdint.h>
#include <stdlib.h>

#include "core/source.h"
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
	img = wdt_image_open_source(src, "elf", &err);
	if (!img)
		return 0;
	/* Read a little from every run: the mapping must be sound. */
	for (size_t i = 0; i < img->nruns && i < 64; i++) {
		const struct wdt_run *r = &img->runs[i];
		size_t n = r->len < sizeof(page) ? (size_t)r->len : sizeof(page);
		wdt_image_read_phys(img, r->pa, page, n, &err);
		wdt_image_read_phys(img, r->pa + r->len - n, page, n, &err);
	}
	wdt_image_close(img);
	return 0;
}
