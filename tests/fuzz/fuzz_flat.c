/* SPDX-License-Identifier: MIT */
/* Fuzz target: the flattened-layout source (record scan, painting, reads). */
#include <stdint.h>
#include <stdlib.h>

#include "core/source.h"
#include "formats/flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_source *m = wdt_source_open_mem(data, size, "fuzz", &err);
	struct wdt_source *s;
	uint8_t buf[4096];

	if (m && size > 65536) { /* as FUZZ_MAX_LEN (fuzz_image.h) */
		wdt_source_close(m);
		return 0;
	}
	if (!m)
		return 0;
	s = wdt_flat_open(m, &err);
	if (!s) {
		wdt_source_close(m);
		return 0;
	}
	/* Walk the rearranged bytes in steps that straddle extents. */
	for (uint64_t off = 0; off < s->size && off < (1u << 20);
	     off += sizeof(buf) - 7)
		wdt_source_read(s, buf, sizeof(buf), off, &err);
	if (s->size > sizeof(buf))
		wdt_source_read(s, buf, sizeof(buf), s->size - sizeof(buf),
				&err);
	wdt_source_close(s);
	return 0;
}
