/* SPDX-License-Identifier: MIT */
/*
 * The one ordered list of formats: detection by content (never by file
 * name), --format=NAME and --list-formats all come from it.
 */
#ifndef WDT_FORMATS_REGISTRY_H
#define WDT_FORMATS_REGISTRY_H

#include "core/image.h"

/* NULL-terminated, in detection-priority order. */
extern const struct wdt_format *const wdt_formats[];

const struct wdt_format *wdt_format_find(const char *name);

/* The best-scoring format for these first bytes, or NULL. */
const struct wdt_format *wdt_format_detect(const uint8_t *head, size_t len,
					   uint64_t size);

/*
 * Files that are not memory images but are often taken for one (QEMU
 * migration streams and libvirt save images, Proxmox vmstate, Windows
 * minidumps, ELF cores and kdumps of other architectures): -1 with status
 * UNSUPPORTED and "WHAT IT IS: WHAT TO DO" when head is one, else 0.
 * Image opening calls it before detection (not with a forced --format).
 */
int wdt_format_refuse(const uint8_t *head, size_t len, struct wdt_err *err);

/*
 * The decompression-bomb guard's default: a compressed raw image may
 * decompress to at most this many times its file size. Measured: the
 * `basic` fixture's 4 GiB raw dump (a 256 MiB guest, mostly zero) is
 * 215× smaller with gzip -1 and 806× with gzip -6; zeros reach 229×
 * (gzip -1) and 1030× (gzip -6/-9, deflate's limit is ≈ 1032×); LZ4
 * never exceeds ≈ 255×. So only a stream of almost nothing but zeros
 * is refused; gzip -1 bombs are bounded by the index memory instead
 * (docs/formats-kdump.md).
 */
#define WDT_MAX_RATIO_DEFAULT 1000

struct wdt_open_opts {
	const char *format; /* a name from the registry, or NULL to detect */
	uint64_t max_ratio; /* the bomb guard; 0: no limit */
};

/*
 * Open path as an image. format: a name from the registry, or NULL to
 * detect; the guard is WDT_MAX_RATIO_DEFAULT. The image is owned by the
 * caller (wdt_image_close). Errors are about the file's content; the
 * caller prefixes the file name.
 */
struct wdt_image *wdt_image_open(const char *path, const char *format,
				 struct wdt_err *err);
struct wdt_image *wdt_image_open_opts(const char *path,
				      const struct wdt_open_opts *o,
				      struct wdt_err *err);

/* The same over an already-open source (taken over even on failure). */
struct wdt_image *wdt_image_open_source(struct wdt_source *src,
					const char *format,
					struct wdt_err *err);
struct wdt_image *wdt_image_open_source_opts(struct wdt_source *src,
					     const struct wdt_open_opts *o,
					     struct wdt_err *err);

#endif
