/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the compressed raw readers (formats/compressed.c), gzip and
 * LZ4 frame, over an in-memory source. Each decompressing source is opened
 * directly (indexing the whole stream) and read at both ends, in the
 * middle and backwards, so resuming from index checkpoints (gzip windows,
 * LZ4 blocks and saved history) is exercised as well as the one pass; then
 * the same bytes are opened as an image by detection.
 */
#include "formats/compressed.h"
#include "fuzz_image.h"

static void read_around(struct wdt_source *s)
{
	uint8_t buf[4096];
	struct wdt_err err;
	uint64_t at[5];
	size_t got;

	if (!s->size)
		return;
	at[0] = s->size - 1;
	at[1] = s->size / 2;
	at[2] = 0;
	at[3] = s->size > sizeof(buf) ? s->size - sizeof(buf) : 0;
	at[4] = s->size / 3;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		wdt_source_pread(s, buf, sizeof(buf), at[i], &got, &err);
	/* One read past the end must be short, not a crash. */
	wdt_source_pread(s, buf, sizeof(buf), s->size, &got, &err);
}

static void one(const uint8_t *data, size_t size, bool gzip)
{
	struct wdt_err err;
	struct wdt_source *in = wdt_source_open_mem(data, size, "fuzz", &err);
	struct wdt_source *s;

	if (!in)
		return;
	s = gzip ? wdt_gzip_open(in, WDT_MAX_RATIO_DEFAULT, &err)
		 : wdt_lz4_open(in, WDT_MAX_RATIO_DEFAULT, &err);
	if (!s) {
		wdt_source_close(in); /* still ours on failure */
		return;
	}
	read_around(s);
	wdt_compressed_points(s);
	wdt_compressed_index_bytes(s);
	wdt_source_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_LEN)
		return 0;
	one(data, size, true);
	one(data, size, false);
	wdt_image_close(fuzz_open_image(data, size, NULL));
	return 0;
}
