/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests: cmocka includes and memory-image helpers. */
#ifndef WDT_TEST_UTIL_H
#define WDT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/image.h"

/* Open buf as an image of the given format (NULL: detect). */
struct wdt_image *wdt_test_open_mem(const void *buf, size_t len,
				    const char *format, struct wdt_err *err);

/*
 * A kdump disk_dump_header (version 6, x86_64, one CPU, a one-block
 * sub-header) and the sub-header's dump_level 1 and max_mapnr_64, at p
 * (at least 2 * bs zeroed bytes).
 */
void wdt_test_kdump_header(uint8_t *p, uint32_t bs, uint32_t status,
			   uint32_t bitmap_blocks, uint64_t max_mapnr);

/* npages pages at pa through a fresh page reader (zero may be NULL). */
int wdt_test_reader_read(struct wdt_image *img, uint64_t pa, size_t npages,
			 void *buf, uint8_t *zero, struct wdt_err *err);

/*
 * nthreads threads, each with its own page reader, read every page of
 * [pa, pa + npages pages) rounds times, each thread starting at another
 * page and alternating zero flags on and off; assert that every read
 * succeeded and gave want (zero-flagged pages: that want's page is zero).
 */
void wdt_test_readers_agree(struct wdt_image *img, uint64_t pa, size_t npages,
			    const uint8_t *want, unsigned nthreads,
			    unsigned rounds);

/*
 * The page reader contract on img (whatever its format): from the page
 * holding the first run to a page past the last, one reader gives what
 * wdt_image_read_phys() gives inside runs and zeros outside, with zero
 * flags set exactly on the all-zero pages; nthreads readers at once agree.
 */
void wdt_test_reader_contract(struct wdt_image *img, unsigned nthreads);

/* assert that err has status st and its message contains needle */
#define assert_err(err, st, needle)                                            \
	do {                                                                   \
		assert_int_equal((err)->status, (st));                         \
		if (!strstr((err)->msg, (needle)))                             \
			fail_msg("message '%s' lacks '%s'", (err)->msg,        \
				 (needle));                                    \
	} while (0)

#endif
