/* SPDX-License-Identifier: MIT */
#include "formats/raw.h"

#include <stdio.h>

/*
 * A raw image has no magic. Claim it weakly, and only for a whole number
 * of pages: that is what pmemsave, `virsh dump --format raw` and dd of
 * guest RAM produce, and it keeps text files and truncated headers of other
 * formats from being taken for memory.
 */
static int raw_probe(const uint8_t *head, size_t len, uint64_t size)
{
	(void)head;
	(void)len;
	return size > 0 && size % WDT_PAGE_SIZE == 0 ? 1 : 0;
}

static int raw_open(struct wdt_image *img, struct wdt_err *err)
{
	if (img->src->size == 0)
		return wdt_err_set(err, WDT_CORRUPT, "empty file");
	snprintf(img->variant, sizeof(img->variant), "flat physical image");
	return wdt_image_add_run(img, 0, img->src->size, 0, err);
}

const struct wdt_format wdt_format_raw = {
    .name = "raw",
    .summary = "flat physical memory image (file offset = physical "
	       "address), e.g. pmemsave or dd output",
    .flags = WDT_FMT_FALLBACK,
    .probe = raw_probe,
    .open = raw_open,
};
