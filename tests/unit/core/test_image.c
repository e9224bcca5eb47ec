/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <stdlib.h>

#include "core/source.h"

static uint8_t file[0x3000];

/* An image over `file` with runs added by the test (no format). */
static struct wdt_image *mkimg(void)
{
	struct wdt_err e;
	struct wdt_image *img = calloc(1, sizeof(*img));

	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + (i >> 8));
	img->src = wdt_source_open_mem(file, sizeof(file), "mem", &e);
	return img;
}

static void runs_sorted_and_found(void **state)
{
	struct wdt_err e;
	struct wdt_image *img = mkimg();

	(void)state;
	assert_int_equal(wdt_image_add_run(img, 0x100000, 0x1000, 0x1000, &e),
			 0);
	assert_int_equal(wdt_image_add_run(img, 0x0, 0x1000, 0x0, &e), 0);
	assert_int_equal(wdt_image_add_run(img, 0x1000, 0x1000, 0x2000, &e), 0);
	assert_int_equal(wdt_image_finish_runs(img, &e), 0);
	assert_int_equal(img->runs[0].pa, 0);
	assert_int_equal(img->runs[2].pa, 0x100000);
	assert_int_equal(wdt_image_find_run(img, 0x1fff), 1);
	assert_int_equal(wdt_image_find_run(img, 0x2000), -1);
	assert_int_equal(wdt_image_find_run(img, 0x100fff), 2);
	assert_int_equal(wdt_image_find_run(img, 0x101000), -1);
	assert_int_equal(wdt_image_total(img), 0x3000);
	wdt_image_close(img);
}

static void read_crosses_runs_and_reports_holes(void **state)
{
	struct wdt_err e;
	struct wdt_image *img = mkimg();
	uint8_t b[0x20];

	(void)state;
	/* PA 0 → file 0x2000, PA 0x1000 → file 0x0: a read across both. */
	wdt_image_add_run(img, 0x0, 0x1000, 0x2000, &e);
	wdt_image_add_run(img, 0x1000, 0x1000, 0x0, &e);
	wdt_image_add_run(img, 0x5000, 0x1000, 0x1000, &e);
	assert_int_equal(wdt_image_finish_runs(img, &e), 0);
	assert_int_equal(wdt_image_read_phys(img, 0xff0, b, 0x20, &e), 0);
	assert_memory_equal(b, file + 0x2ff0, 0x10);
	assert_memory_equal(b + 0x10, file, 0x10);
	/* A read running into the hole fails as a whole, naming the hole. */
	assert_int_equal(wdt_image_read_phys(img, 0x1ff0, b, 0x20, &e), -1);
	assert_err(&e, WDT_NO_DATA,
		   "physical address 0x2000 is not in the image");
	assert_int_equal(wdt_image_read_phys(img, 0x5000, b, 4, &e), 0);
	assert_memory_equal(b, file + 0x1000, 4);
	wdt_image_close(img);
}

static void overlap_and_wrap_rejected(void **state)
{
	struct wdt_err e;
	struct wdt_image *img = mkimg();

	(void)state;
	wdt_image_add_run(img, 0x0, 0x2000, 0, &e);
	wdt_image_add_run(img, 0x1000, 0x1000, 0, &e);
	assert_int_equal(wdt_image_finish_runs(img, &e), -1);
	assert_err(&e, WDT_CORRUPT, "overlap");
	wdt_image_close(img);

	img = mkimg();
	wdt_image_add_run(img, UINT64_MAX - 0xfff, 0x2000, 0, &e);
	assert_int_equal(wdt_image_finish_runs(img, &e), -1);
	assert_err(&e, WDT_CORRUPT, "wraps");
	wdt_image_close(img);

	img = mkimg();
	wdt_image_add_run(img, 0x1000, 0, 0, &e);
	assert_int_equal(wdt_image_finish_runs(img, &e), -1);
	assert_err(&e, WDT_CORRUPT, "empty");
	wdt_image_close(img);
}

static void many_runs_binary_search(void **state)
{
	struct wdt_err e;
	struct wdt_image *img = mkimg();

	(void)state;
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(
		    wdt_image_add_run(img, (4999 - i) * 0x2000, 0x1000, 0, &e),
		    0);
	assert_int_equal(wdt_image_finish_runs(img, &e), 0);
	for (uint64_t i = 0; i < 5000; i += 37) {
		assert_int_equal(wdt_image_find_run(img, i * 0x2000 + 5),
				 (long)i);
		assert_int_equal(wdt_image_find_run(img, i * 0x2000 + 0x1000),
				 -1);
	}
	wdt_image_close(img);
}

/*
 * The default page reader: runs that start and end inside pages, gaps
 * read as zero, zero flags, the one-thread cap of a serial source, and a
 * failing read naming its page.
 */
static void default_reader(void **state)
{
	struct wdt_err e;
	struct wdt_image *img = mkimg();
	uint8_t buf[3 * WDT_PAGE_SIZE], zero[3];

	(void)state;
	memset(file + 0x1000, 0, 0x800); /* an all-zero stretch */
	assert_int_equal(wdt_image_add_run(img, 0x0, 0x1000, 0x0, &e), 0);
	assert_int_equal(wdt_image_add_run(img, 0x1800, 0x800, 0x1000, &e), 0);
	assert_int_equal(wdt_image_add_run(img, 0x5000, 0x100, 0x2000, &e), 0);
	assert_int_equal(wdt_image_add_run(img, 0x5200, 0xe00, 0x2200, &e), 0);
	assert_int_equal(wdt_image_finish_runs(img, &e), 0);
	wdt_test_reader_contract(img, 3);
	/* page 1 holds only the zeroed run: flagged; 2 is a gap */
	assert_int_equal(wdt_test_reader_read(img, 0x1000, 3, buf, zero, &e),
			 0);
	assert_int_equal(zero[0], 1);
	assert_int_equal(zero[1], 1);
	assert_int_equal(zero[2], 1);
	assert_int_equal(wdt_test_reader_read(img, 0x5000, 1, buf, zero, &e),
			 0);
	assert_int_equal(zero[0], 0);
	assert_memory_equal(buf, file + 0x2000, 0x100);
	assert_int_equal(buf[0x100], 0);
	assert_int_equal(buf[0x1ff], 0);
	assert_memory_equal(buf + 0x200, file + 0x2200, 0xe00);
	assert_int_equal(wdt_image_reader_threads(img, 4), 4);
	img->src->serial = true;
	assert_int_equal(wdt_image_reader_threads(img, 4), 1);
	/* a run past the end of the source: the page is named */
	img->runs[3].file_off = 0x2800;
	assert_int_equal(wdt_test_reader_read(img, 0x4000, 2, buf, NULL, &e),
			 -1);
	assert_err(&e, WDT_TRUNCATED, "reading physical address 0x5200: ");
	assert_int_equal(wdt_test_reader_read(img, 0x4001, 1, buf, NULL, &e),
			 -1);
	assert_err(&e, WDT_INTERNAL, "unaligned address 0x4001");
	wdt_image_close(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(runs_sorted_and_found),
	    cmocka_unit_test(read_crosses_runs_and_reports_holes),
	    cmocka_unit_test(overlap_and_wrap_rejected),
	    cmocka_unit_test(many_runs_binary_search),
	    cmocka_unit_test(default_reader),
	};
	return cmocka_run_group_tests_name("core/image", tests, NULL, NULL);
}
