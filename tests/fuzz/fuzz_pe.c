/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the PE reader, as a file (offsets mapped through the
 * section table) and as a mapped image (offset = RVA, with a hole in the
 * second page), plus the pure parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/source.h"
#include "symbols/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n;
};

static int image_read(void *ctx, uint64_t off, void *buf, size_t len,
		      struct wdt_err *err)
{
	const struct mem *m = ctx;

	if (!wdt_in_bounds(m->n, off, len))
		return wdt_err_set(err, WDT_NO_DATA, "beyond");
	if (off < 0x2000 && off + len > 0x1000)
		return wdt_err_set(err, WDT_NO_DATA, "hole");
	memcpy(buf, m->p + off, len);
	return 0;
}

static void exercise(struct wdt_pe *pe)
{
	struct wdt_err err;
	const struct wdt_pe_codeview *cv;
	const struct wdt_pe_export *v;
	const char *dll;
	size_t n;
	uint32_t rva;
	uint8_t buf[16];

	if (!pe)
		return;
	wdt_pe_sections(pe, &n);
	wdt_pe_codeview(pe, &cv, &err);
	if (wdt_pe_exports(pe, &v, &n, &dll, &err) == 0 && n)
		wdt_pe_export_rva(pe, v[n / 2].name, &rva, &err);
	wdt_pe_export_rva(pe, "KdDebuggerDataBlock", &rva, &err);
	wdt_pe_read_rva(pe, wdt_pe_headers(pe)->entry_rva, buf, sizeof(buf),
			&err);
	wdt_pe_close(pe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wdt_err err;
	struct wdt_pe_headers h;
	struct wdt_pe_codeview cv;
	struct wdt_pe_export_dir ed;
	struct mem m = {data, size};
	struct wdt_pe_io io = {image_read, &m, WDT_PE_LAYOUT_IMAGE, "fuzz"};
	struct wdt_source *src;

	wdt_pe_parse_headers(data, size, &h, &err);
	wdt_pe_parse_rsds(data, size, &cv, &err);
	wdt_pe_parse_export_dir(data, size, &ed, &err);
	src = wdt_source_open_mem(data, size, "fuzz", &err);
	if (src) {
		exercise(wdt_pe_open_source(src, &err));
		wdt_source_close(src);
	}
	exercise(wdt_pe_open(&io, &err));
	return 0;
}
