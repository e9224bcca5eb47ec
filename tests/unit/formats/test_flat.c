/* SPDX-License-Identifier: MIT */
/* formats/flat.c: the flattened layout as a source over a source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/flat.h"

struct fb {
	uint8_t *p;
	size_t len, cap;
};

static void fb_put(struct fb *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void fb_header(struct fb *b)
{
	uint8_t h[WDT_FLAT_HDR_SIZE] = {0};
	memcpy(h, "makedumpfile", 12);
	put_be64(h + 16, 1);
	put_be64(h + 24, 1);
	fb_put(b, h, sizeof(h));
}

static void fb_record(struct fb *b, int64_t off, int64_t size,
		      const uint8_t *data)
{
	uint8_t h[16];
	put_be64(h, (uint64_t)off);
	put_be64(h + 8, (uint64_t)size);
	fb_put(b, h, 16);
	if (data && size > 0)
		fb_put(b, data, (size_t)size);
}

static void fb_end(struct fb *b)
{
	fb_record(b, -1, -1, NULL);
}

static struct wdt_source *open_flat(struct fb *b, struct wdt_err *err)
{
	struct wdt_source *m = wdt_source_open_mem(b->p, b->len, "t", err);
	assert_non_null(m);
	struct wdt_source *s = wdt_flat_open(m, err);
	if (!s)
		wdt_source_close(m);
	return s;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random overlapping out-of-order records equal makedumpfile -R's result:
 * write them in order into a plain array (later wins, gaps zero). */
static void test_random_overlaps(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct fb b = {0};
		enum { SPACE = 5000 };
		uint8_t want[SPACE] = {0};
		uint64_t end = 0;
		fb_header(&b);
		int n = 1 + (int)(rnd() % 60);
		for (int i = 0; i < n; i++) {
			uint64_t off = rnd() % (SPACE - 300);
			uint64_t len = 1 + rnd() % 299;
			uint8_t d[300];
			for (uint64_t k = 0; k < len; k++)
				d[k] = (uint8_t)(1 + rnd() % 255);
			fb_record(&b, (int64_t)off, (int64_t)len, d);
			memcpy(want + off, d, len);
			if (off + len > end)
				end = off + len;
		}
		fb_end(&b);
		struct wdt_err err;
		struct wdt_source *s = open_flat(&b, &err);
		assert_non_null(s);
		assert_int_equal(s->size, end);
		assert_int_equal(wdt_flat_records(s), n);
		uint8_t got[SPACE];
		assert_int_equal(wdt_source_read(s, got, end, 0, &err), 0);
		assert_memory_equal(got, want, end);
		/* and piecewise at odd offsets */
		for (int k = 0; k < 50; k++) {
			uint64_t o = rnd() % end, l = 1 + rnd() % (end - o);
			memset(got, 0xAA, l);
			assert_int_equal(wdt_source_read(s, got, l, o, &err),
					 0);
			assert_memory_equal(got, want + o, l);
		}
		wdt_source_close(s);
		free(b.p);
	}
}

static void test_sorted_and_gap(void **state)
{
	(void)state;
	struct fb b = {0};
	uint8_t a[8] = "AAAAAAAA", c[4] = "CCCC";
	fb_header(&b);
	fb_record(&b, 0, 8, a);
	fb_record(&b, 16, 4, c);
	fb_end(&b);
	fb_put(&b, "junk after the end marker", 25);
	struct wdt_err err;
	struct wdt_source *s = open_flat(&b, &err);
	assert_non_null(s);
	assert_int_equal(s->size, 20);
	uint8_t got[20];
	assert_int_equal(wdt_source_read(s, got, 20, 0, &err), 0);
	assert_memory_equal(got, "AAAAAAAA\0\0\0\0\0\0\0\0CCCC", 20);
	assert_int_equal(wdt_flat_extents(s), 2);
	wdt_source_close(s);
	free(b.p);
}

static void expect_fail(struct fb *b, enum wdt_status st, const char *msg)
{
	struct wdt_err err;
	wdt_err_clear(&err);
	struct wdt_source *s = open_flat(b, &err);
	assert_null(s);
	assert_int_equal(err.status, st);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	free(b->p);
}

static void test_negative_offset(void **state)
{
	(void)state;
	struct fb b = {0};
	uint8_t d[4] = {1, 2, 3, 4};
	fb_header(&b);
	fb_record(&b, 0, 4, d);
	fb_record(&b, -4096, 4, d);
	fb_end(&b);
	expect_fail(&b, WDT_CORRUPT,
		    "record 1 at file offset 0x1014 has offset -4096");
}

static void test_zero_size(void **state)
{
	(void)state;
	struct fb b = {0};
	fb_header(&b);
	fb_record(&b, 0, 0, NULL);
	fb_end(&b);
	expect_fail(&b, WDT_CORRUPT, "size 0");
}

static void test_past_eof(void **state)
{
	(void)state;
	struct fb b = {0};
	uint8_t d[4] = {1, 2, 3, 4};
	fb_header(&b);
	fb_record(&b, 0, 4, d);
	fb_record(&b, 8, 1000, NULL); /* only 4 data bytes follow */
	fb_put(&b, d, 4);
	expect_fail(&b, WDT_TRUNCATED, "1000 bytes of data run past the end");
}

static void test_no_end_marker(void **state)
{
	(void)state;
	struct fb b = {0};
	uint8_t d[4] = {1, 2, 3, 4};
	fb_header(&b);
	fb_record(&b, 0, 4, d);
	expect_fail(&b, WDT_TRUNCATED, "no end marker");
}

static void test_wrap(void **state)
{
	(void)state;
	struct fb b = {0};
	uint8_t d[4] = {1, 2, 3, 4};
	fb_header(&b);
	fb_record(&b, INT64_MAX - 1, 4, d);
	fb_end(&b);
	expect_fail(&b, WDT_CORRUPT, "wraps");
}

static void test_bad_header(void **state)
{
	(void)state;
	struct fb b = {0};
	fb_header(&b);
	put_be64(b.p + 16, 2);
	fb_end(&b);
	expect_fail(&b, WDT_UNSUPPORTED, "type 2");
	struct fb c = {0};
	fb_put(&c, "makedumpfile", 12);
	expect_fail(&c, WDT_TRUNCATED, "lie beyond the end");
}

/*
 * The index cap: 1-byte records (17 bytes of file each) beyond
 * WDT_FLAT_FREE_RECORDS are refused; exactly that many open, and a file
 * large enough for one record per WDT_FLAT_MIN_RECORD_FILE bytes opens.
 */
static void test_record_cap(void **state)
{
	(void)state;
	struct fb b = {0};
	struct wdt_err err;
	uint8_t x = 0x5a;

	fb_header(&b);
	for (uint32_t i = 0; i < WDT_FLAT_FREE_RECORDS; i++)
		fb_record(&b, (int64_t)i * 2, 1, &x);
	size_t at = b.len;
	fb_end(&b);
	struct wdt_source *s = open_flat(&b, &err);
	assert_non_null(s);
	assert_int_equal(wdt_flat_records(s), WDT_FLAT_FREE_RECORDS);
	wdt_source_close(s);
	b.len = at;
	fb_record(&b, 1, 1, &x); /* one more, out of order */
	fb_end(&b);
	expect_fail(&b, WDT_UNSUPPORTED,
		    "the index is capped at 65536 records");

	/* big records raise the allowance: 70,000 records in > 70,000 KiB */
	uint8_t *big = calloc(1, WDT_FLAT_MIN_RECORD_FILE);
	memset(&b, 0, sizeof(b));
	fb_header(&b);
	for (uint32_t i = 0; i < 70000; i++)
		fb_record(&b, (int64_t)i * WDT_FLAT_MIN_RECORD_FILE,
			  WDT_FLAT_MIN_RECORD_FILE, big);
	fb_end(&b);
	s = open_flat(&b, &err);
	assert_non_null(s);
	assert_int_equal(wdt_flat_records(s), 70000);
	wdt_source_close(s);
	free(b.p);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_overlaps),
	    cmocka_unit_test(test_sorted_and_gap),
	    cmocka_unit_test(test_negative_offset),
	    cmocka_unit_test(test_zero_size),
	    cmocka_unit_test(test_past_eof),
	    cmocka_unit_test(test_no_end_marker),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_record_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
