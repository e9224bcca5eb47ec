/* SPDX-License-Identifier: MIT */
/*
 * Byte sources: a read-only, random-access stream of bytes with a known
 * size. Files are read with pread (64-bit offsets, never mapped writable);
 * memory sources serve unit tests and fuzzers; other layers (flattened
 * kdump, compressed raw) wrap a source in a source.
 */
#ifndef WDT_CORE_SOURCE_H
#define WDT_CORE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

struct wdt_source;

struct wdt_source_ops {
	/* Read up to len bytes at off; set *got. Short only at end of data. */
	int (*pread)(struct wdt_source *src, void *buf, size_t len,
		     uint64_t off, size_t *got, struct wdt_err *err);
	void (*close)(struct wdt_source *src);
};

struct wdt_source {
	const struct wdt_source_ops *ops;
	void *priv;
	uint64_t size;
	char *name; /* for messages; owned */
	/*
	 * Reads are serialised inside (one decoder under a lock: compressed
	 * raw): safe from several threads, but only worth one (see
	 * wdt_image_reader_threads).
	 */
	bool serial;
};

/*
 * Open a regular file or block device read-only (wdt_source_open_input).
 * Rejects directories and other non-regular files with a clear message. "-" is
 * standard input when it is a regular file or block device (`wdt info - <
 * x.elf`: read at any offset, whatever its position); a pipe, socket or
 * terminal is refused (UNSUPPORTED). The returned source is owned by the caller
 * (wdt_source_close).
 */
struct wdt_source *wdt_source_open_file(const char *path, struct wdt_err *err);

struct stat;
/*
 * open(path, O_RDONLY) for a file the user named (an image, a PDB, a
 * symbol store's file): never blocks on a FIFO or device, since the type
 * is checked (regular file or block device, as above) before the open is
 * made blocking. Returns the descriptor (caller closes) with *st filled,
 * or -1 with err ("no such file", "not a regular file (…)", …).
 */
int wdt_source_open_input(const char *path, struct stat *st,
			  struct wdt_err *err);

/*
 * What standard input is when it cannot be read at random offsets ("a
 * pipe", "a socket", "a terminal", ...), or NULL when it can.
 */
const char *wdt_source_stdin_stream(void);

/* A source over caller memory (not copied; must outlive the source). */
struct wdt_source *wdt_source_open_mem(const void *buf, size_t len,
				       const char *name, struct wdt_err *err);

/*
 * Create a source from ops and private data (for wrapper sources). name
 * is copied. On failure priv is NOT freed.
 */
struct wdt_source *wdt_source_new(const struct wdt_source_ops *ops, void *priv,
				  uint64_t size, const char *name,
				  struct wdt_err *err);

/*
 * The bytes of inner from off to its end, as a source of their own (a
 * container's payload: a libvirt save image's migration stream). On
 * success the window owns inner; on failure inner stays the caller's.
 */
struct wdt_source *wdt_source_open_window(struct wdt_source *inner,
					  uint64_t off, struct wdt_err *err);

void wdt_source_close(struct wdt_source *src);

/*
 * Read exactly len bytes at off. Past the end: status TRUNCATED with a
 * message giving the offset and the source size.
 */
int wdt_source_read(struct wdt_source *src, void *buf, size_t len, uint64_t off,
		    struct wdt_err *err);

/* Read up to len bytes; *got says how many (0 at or past the end). */
int wdt_source_pread(struct wdt_source *src, void *buf, size_t len,
		     uint64_t off, size_t *got, struct wdt_err *err);

#endif
