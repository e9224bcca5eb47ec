/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/source.h"

static void mem_reads_exact_and_short(void **state)
{
	static const uint8_t data[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct wdt_err e;
	uint8_t b[8];
	size_t got;

	(void)state;
	struct wdt_source *s = wdt_source_open_mem(data, sizeof(data), "m", &e);
	assert_non_null(s);
	assert_int_equal(wdt_source_read(s, b, 4, 6, &e), 0);
	assert_int_equal(b[0], 6);
	assert_int_equal(wdt_source_read(s, b, 5, 6, &e), -1);
	assert_err(&e, WDT_TRUNCATED, "offset 0x6");
	assert_int_equal(wdt_source_pread(s, b, 8, 6, &got, &e), 0);
	assert_int_equal(got, 4);
	assert_int_equal(wdt_source_pread(s, b, 8, 100, &got, &e), 0);
	assert_int_equal(got, 0);
	/* Offsets near 2^64 must not wrap into the buffer. */
	assert_int_equal(wdt_source_read(s, b, 8, UINT64_MAX - 2, &e), -1);
	assert_int_equal(e.status, WDT_TRUNCATED);
	wdt_source_close(s);
}

static void file_errors_are_clear(void **state)
{
	struct wdt_err e;

	(void)state;
	assert_null(wdt_source_open_file("/nonexistent/wdt/x", &e));
	assert_err(&e, WDT_NOT_FOUND, "no such file");
	assert_null(wdt_source_open_file("/", &e));
	assert_err(&e, WDT_UNKNOWN_FORMAT, "directory");
	assert_null(wdt_source_open_file("/dev/null", &e));
	assert_err(&e, WDT_UNSUPPORTED, "not a regular file");
}

static void file_beyond_4gib_sparse(void **state)
{
	char path[] = "/tmp/wdt-src-XXXXXX";
	int fd = mkstemp(path);
	struct wdt_err e;
	uint8_t b[4] = {0};
	const uint64_t off = (5ull << 30) + 3; /* past 4 GiB */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "WDT!", 4, (off_t)off), 4);
	close(fd);
	struct wdt_source *s = wdt_source_open_file(path, &e);
	assert_non_null(s);
	assert_int_equal(s->size, off + 4);
	assert_int_equal(wdt_source_read(s, b, 4, off, &e), 0);
	assert_memory_equal(b, "WDT!", 4);
	wdt_source_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mem_reads_exact_and_short),
	    cmocka_unit_test(file_errors_are_clear),
	    cmocka_unit_test(file_beyond_4gib_sparse),
	};
	return cmocka_run_group_tests_name("core/source", tests, NULL, NULL);
}
