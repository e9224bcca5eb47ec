/* SPDX-License-Identifier: MIT */
#include "formats/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/compressed.h"
#include "formats/dmp.h"
#include "formats/elf.h"
#include "formats/kdump.h"
#include "formats/raw.h"

/* Formats with a magic first; "raw" (no magic) last. */
const struct wdt_format *const wdt_formats[] = {
	&wdt_format_elf,
	&wdt_format_kdump,
	&wdt_format_raw_gzip,
	&wdt_format_raw_lz4,
	&wdt_format_dmp,
	&wdt_format_raw,
	NULL,
};

const struct wdt_format *wdt_format_find(const char *name)
{
	for (size_t i = 0; wdt_formats[i]; i++)
		if (strcmp(wdt_formats[i]->name, name) == 0)
			return wdt_formats[i];
	return NULL;
}

const struct wdt_format *wdt_format_detect(const uint8_t *head, size_t len,
					   uint64_t size)
{
	const struct wdt_format *best = NULL;
	int best_score = 0;

	for (size_t i = 0; wdt_formats[i]; i++) {
		int s = wdt_formats[i]->probe(head, len, size);
		if (s > best_score) {
			best_score = s;
			best = wdt_formats[i];
		}
	}
	return best;
}

static void describe_head(char *buf, size_t len, const uint8_t *head, size_t n)
{
	size_t k = n < 8 ? n : 8, o = 0;

	for (size_t i = 0; i < k && o + 4 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02x", i ? " " : "",
				      head[i]);
}

struct wdt_image *wdt_image_open_source(struct wdt_source *src,
					const char *format,
					struct wdt_err *err)
{
	uint8_t head[WDT_PROBE_HEAD];
	const struct wdt_format *fmt;
	struct wdt_image *img;
	size_t got;

	if (format) {
		fmt = wdt_format_find(format);
		if (!fmt) {
			wdt_source_close(src);
			wdt_err_set(err, WDT_USAGE,
				    "unknown format '%s' (see --list-formats)",
				    format);
			return NULL;
		}
	} else {
		if (src->size == 0) {
			wdt_source_close(src);
			wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				    "empty file, not a memory image");
			return NULL;
		}
		if (wdt_source_pread(src, head, sizeof(head), 0, &got, err) <
		    0) {
			wdt_source_close(src);
			return NULL;
		}
		fmt = wdt_format_detect(head, got, src->size);
		if (!fmt) {
			char hex[40] = "";
			describe_head(hex, sizeof(hex), head, got);
			wdt_source_close(src);
			wdt_err_set(err, WDT_UNKNOWN_FORMAT,
				    "not a memory image wdt knows (first bytes "
				    "%s); see 'wdt info --list-formats', or "
				    "force one with --format=raw",
				    hex);
			return NULL;
		}
	}
	img = calloc(1, sizeof(*img));
	if (!img) {
		wdt_source_close(src);
		wdt_err_nomem(err);
		return NULL;
	}
	img->src = src;
	img->fmt = fmt;
	/* A format may wrap src (flattened, gzip): keep the file's own size. */
	img->file_size = src->size;
	img->path = strdup(src->name);
	if (!img->path) {
		wdt_image_close(img);
		wdt_err_nomem(err);
		return NULL;
	}
	if (fmt->open(img, err) < 0 || wdt_image_finish_runs(img, err) < 0) {
		wdt_err_prefix(err, "%s", fmt->name);
		wdt_image_close(img);
		return NULL;
	}
	return img;
}

struct wdt_image *wdt_image_open(const char *path, const char *format,
				 struct wdt_err *err)
{
	struct wdt_source *src = wdt_source_open_file(path, err);

	if (!src)
		return NULL;
	return wdt_image_open_source(src, format, err);
}
