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

/* assert that err has status st and its message contains needle */
#define assert_err(err, st, needle)                                           \
	do {                                                                  \
		assert_int_equal((err)->status, (st));                        \
		if (!strstr((err)->msg, (needle)))                            \
			fail_msg("message '%s' lacks '%s'", (err)->msg,       \
				 (needle));                                   \
	} while (0)

#endif
