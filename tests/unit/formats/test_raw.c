/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <stdlib.h>

#include "formats/registry.h"

static void raw_is_one_run_at_zero(void **state)
{
	struct wdt_err e;
	uint8_t *m = calloc(1, 0x3000);
	uint8_t b[4];

	(void)state;
	m[0x2001] = 0x5a;
	struct wdt_image *img = wdt_test_open_mem(m, 0x3000, NULL, &e);
	assert_non_null(img);
	assert_string_equal(img->fmt->name, "raw");
	assert_int_equal(img->nruns, 1);
	assert_int_equal(img->runs[0].len, 0x3000);
	assert_int_equal(wdt_image_read_phys(img, 0x2000, b, 4, &e), 0);
	assert_int_equal(b[1], 0x5a);
	assert_int_equal(wdt_image_read_phys(img, 0x2ffe, b, 4, &e), -1);
	assert_err(&e, WDT_NO_DATA, "0x3000 is not in the image");
	wdt_test_reader_contract(img, 3);
	assert_int_equal(wdt_image_reader_threads(img, 3), 3);
	wdt_image_close(img);
	free(m);
}

static void detection_by_content(void **state)
{
	struct wdt_err e;
	char text[100] = "root:x:0:0:root:/root:/bin/bash\n";

	(void)state;
	/* Not a page multiple and no magic: refused, first bytes shown. */
	assert_null(wdt_test_open_mem(text, sizeof(text), NULL, &e));
	assert_err(&e, WDT_UNKNOWN_FORMAT, "72 6f 6f 74");
	/* Forced raw reads anything non-empty. */
	struct wdt_image *img =
	    wdt_test_open_mem(text, sizeof(text), "raw", &e);
	assert_non_null(img);
	wdt_image_close(img);
	assert_null(wdt_test_open_mem(text, sizeof(text), "nosuch", &e));
	assert_err(&e, WDT_USAGE, "unknown format 'nosuch'");
	/* ELF magic beats raw even when the size is a page multiple. */
	uint8_t *m = calloc(1, 4096);
	memcpy(m, "\177ELF", 4);
	assert_string_equal(wdt_format_detect(m, 4096, 4096)->name, "elf");
	free(m);
	assert_non_null(wdt_format_find("raw"));
	assert_null(wdt_format_find("RAW"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(raw_is_one_run_at_zero),
	    cmocka_unit_test(detection_by_content),
	};
	return cmocka_run_group_tests_name("formats/raw", tests, NULL, NULL);
}
