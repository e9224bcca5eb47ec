/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include "core/source.h"
#include "formats/registry.h"

struct wdt_image *wdt_test_open_mem(const void *buf, size_t len,
				    const char *format, struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_mem(buf, len, "mem", err);

	if (!src)
		return NULL;
	return wdt_image_open_source(src, format, err);
}
