/* SPDX-License-Identifier: MIT */
/* formats/compressed.c: gzip and LZ4-frame raw images, random access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <zlib.h>

#include "formats/compressed.h"
#include "testutil.h"

#define DATA (21u << 20) /* > WDT_LZ4_SPAN and several WDT_GZ_SPAN */

static uint8_t *data;

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static int setup(void **state)
{
	(void)state;
	data = malloc(DATA);
	/* compressible but not trivial: runs of text, zeros and noise */
	for (size_t i = 0; i < DATA; i += 4096) {
		unsigned k = (unsigned)(i / 4096) % 5;
		for (size_t j = 0; j < 4096; j++)
			data[i + j] =
			    k == 0   ? 0
			    : k == 1 ? (uint8_t)rnd()
			    : k == 2 ? (uint8_t)("wdt page "[j % 9] + i / 4096)
				     : (uint8_t)(j * k + i / 4096);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(data);
	return 0;
}

static uint8_t *gzip_of(const uint8_t *d, size_t n, size_t *out)
{
	z_stream zs = {0};
	size_t cap = compressBound(n) + 64;
	uint8_t *o = malloc(cap);
	assert_int_equal(
	    deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (uint8_t *)d;
	zs.avail_in = (uInt)n;
	zs.next_out = o;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out = zs.total_out;
	deflateEnd(&zs);
	return o;
}

static void check_random_reads(struct wdt_source *s)
{
	struct wdt_err err;
	uint8_t *buf = malloc(300000);
	assert_int_equal(s->size, DATA);
	/* backwards, forwards, across index points, at the end */
	uint64_t offs[] = {DATA - 5000, 0,     (4u << 20) - 10, (16u << 20) - 7,
			   DATA / 2,	12345, DATA - 1};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		size_t n = offs[i] + 5000 <= DATA ? 5000 : DATA - offs[i];
		assert_int_equal(wdt_source_read(s, buf, n, offs[i], &err), 0);
		assert_memory_equal(buf, data + offs[i], n);
	}
	for (int i = 0; i < 30; i++) {
		uint64_t o = rnd() % DATA, n = 1 + rnd() % 300000;
		if (o + n > DATA)
			n = DATA - o;
		assert_int_equal(wdt_source_read(s, buf, n, o, &err), 0);
		assert_memory_equal(buf, data + o, n);
	}
	free(buf);
}

static void test_gzip(void **state)
{
	(void)state;
	size_t n1, n2;
	uint8_t *a = gzip_of(data, DATA / 3, &n1);
	uint8_t *b = gzip_of(data + DATA / 3, DATA - DATA / 3, &n2);
	uint8_t *cat = malloc(n1 + n2 + 4);
	memcpy(cat, a, n1);
	memcpy(cat + n1, b, n2);
	memset(cat + n1 + n2, 0, 4); /* trailing zeros, as gzip tolerates */
	struct wdt_err err;
	struct wdt_source *m =
	    wdt_source_open_mem(cat, n1 + n2 + 4, "t.gz", &err);
	struct wdt_source *s = wdt_gzip_open(m, 0, &err);
	if (!s)
		fail_msg("%s", err.msg);
	/* two members (fresh points) plus checkpoints every 4 MiB */
	assert_true(wdt_compressed_points(s) >= 2 + DATA / WDT_GZ_SPAN - 2);
	check_random_reads(s);
	wdt_source_close(s);

	/* truncated stream and corrupt deflate data */
	m = wdt_source_open_mem(cat, n1 / 2, "t.gz", &err);
	assert_null(wdt_gzip_open(m, 0, &err));
	assert_int_equal(err.status, WDT_TRUNCATED);
	wdt_source_close(m);
	memset(cat + n1 / 2, 0xff, 64);
	m = wdt_source_open_mem(cat, n1 + n2, "t.gz", &err);
	assert_null(wdt_gzip_open(m, 0, &err));
	assert_int_equal(err.status, WDT_CORRUPT);
	assert_non_null(strstr(err.msg, "gzip:"));
	wdt_source_close(m);
	free(a);
	free(b);
	free(cat);
}

/* An LZ4 frame by hand (lz4 frame format): 64 KiB blocks. */
static uint8_t *lz4_of(const uint8_t *d, size_t n, bool linked, size_t *out)
{
	size_t bs = 65536, cap = n + n / 100 + 4096 + LZ4_compressBound(65536);
	uint8_t *o = malloc(cap), *p = o;
	LZ4_stream_t *st = LZ4_createStream();
	wdt_put_le32(p, WDT_LZ4_MAGIC);
	p[4] = 0x40 | (linked ? 0 : 0x20); /* version 01, B.Indep */
	p[5] = 4 << 4;			   /* 64 KiB blocks */
	p[6] = 0;			   /* HC, unchecked by wdt */
	p += 7;
	for (size_t i = 0; i < n; i += bs) {
		size_t len = n - i < bs ? n - i : bs;
		int c = linked
			    ? LZ4_compress_fast_continue(
				  st, (const char *)d + i, (char *)p + 4,
				  (int)len, LZ4_compressBound((int)len), 1)
			    : LZ4_compress_default((const char *)d + i,
						   (char *)p + 4, (int)len,
						   LZ4_compressBound((int)len));
		assert_true(c > 0);
		if ((size_t)c >= len) { /* store raw */
			memcpy(p + 4, d + i, len);
			wdt_put_le32(p, (uint32_t)len | 0x80000000u);
			p += 4 + len;
		} else {
			wdt_put_le32(p, (uint32_t)c);
			p += 4 + c;
		}
	}
	wdt_put_le32(p, 0);
	p += 4;
	LZ4_freeStream(st);
	*out = (size_t)(p - o);
	return o;
}

static void test_lz4(void **state)
{
	(void)state;
	for (int linked = 0; linked < 2; linked++) {
		size_t n;
		uint8_t *f = lz4_of(data, DATA, linked, &n);
		struct wdt_err err;
		struct wdt_source *m = wdt_source_open_mem(f, n, "t.lz4", &err);
		struct wdt_source *s = wdt_lz4_open(m, 0, &err);
		if (!s)
			fail_msg("%s", err.msg);
		assert_int_equal(wdt_compressed_points(s), DATA / 65536);
		check_random_reads(s);
		wdt_source_close(s);
		/* cut short */
		m = wdt_source_open_mem(f, n / 3, "t.lz4", &err);
		assert_null(wdt_lz4_open(m, 0, &err));
		assert_int_equal(err.status, WDT_TRUNCATED);
		wdt_source_close(m);
		/* a block whose sequences are garbage fails at open (LZ4 has
		 * no way to notice corrupt literals without checksums) */
		memset(f + 11, 0xff, wdt_le32(f + 7) & 0x7fffffff);
		m = wdt_source_open_mem(f, n, "t.lz4", &err);
		assert_null(wdt_lz4_open(m, 0, &err));
		assert_int_equal(err.status, WDT_CORRUPT);
		assert_non_null(
		    strstr(err.msg, "LZ4 block at compressed offset 0xb"));
		wdt_source_close(m);
		free(f);
	}
}

/*
 * Compressed raw images through the page readers: the contract holds,
 * the decoder's lock makes several threads safe, and the image asks for
 * one thread (src->serial). Small: out-of-order reads re-inflate.
 */
static void test_readers(void **state)
{
	(void)state;
	size_t n;
	struct wdt_err err;
	uint8_t *g = gzip_of(data, 64 * 4096, &n);
	struct wdt_image *img = wdt_test_open_mem(g, n, NULL, &err);
	if (!img)
		fail_msg("%s", err.msg);
	assert_string_equal(img->fmt->name, "raw-gzip");
	assert_int_equal(wdt_image_reader_threads(img, 4), 1);
	wdt_test_reader_contract(img, 3);
	wdt_image_close(img);
	free(g);

	uint8_t *f = lz4_of(data, 64 * 4096, 1, &n);
	img = wdt_test_open_mem(f, n, NULL, &err);
	if (!img)
		fail_msg("%s", err.msg);
	assert_string_equal(img->fmt->name, "raw-lz4");
	assert_int_equal(wdt_image_reader_threads(img, 4), 1);
	wdt_test_reader_contract(img, 3);
	wdt_image_close(img);
	free(f);
}

static void test_lz4_bad_frames(void **state)
{
	(void)state;
	uint8_t f[16] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0, 0, 0, 0, 0};
	struct wdt_err err;
	f[5] = 0x10; /* block size id 1: reserved */
	struct wdt_source *m = wdt_source_open_mem(f, 11, "t.lz4", &err);
	assert_null(wdt_lz4_open(m, 0, &err));
	assert_int_equal(err.status, WDT_CORRUPT);
	wdt_source_close(m);
	f[5] = 0x40;
	wdt_put_le32(f + 7, 0x7fffffff); /* block larger than the frame max */
	m = wdt_source_open_mem(f, 11, "t.lz4", &err);
	assert_null(wdt_lz4_open(m, 0, &err));
	assert_int_equal(err.status, WDT_CORRUPT);
	wdt_source_close(m);
	wdt_put_le32(f, WDT_LZ4_LEGACY_MAGIC);
	m = wdt_source_open_mem(f, 11, "t.lz4", &err);
	assert_null(wdt_lz4_open(m, 0, &err));
	assert_int_equal(err.status, WDT_UNSUPPORTED);
	wdt_source_close(m);
}

/* The bomb guard: output beyond max_ratio × the file is refused. */
static void test_ratio_guard(void **state)
{
	(void)state;
	size_t n = 8u << 20, gl;
	uint8_t *zero = calloc(1, n);
	uint8_t *gz = gzip_of(zero, n, &gl);
	struct wdt_err err;
	uint64_t ratio = n / gl; /* about 229 at level 1 */

	assert_true(ratio > 100);
	struct wdt_source *m = wdt_source_open_mem(gz, gl, "z.gz", &err);
	assert_null(wdt_gzip_open(m, ratio - 1, &err));
	assert_int_equal(err.status, WDT_UNSUPPORTED);
	assert_int_equal(err.remedy, WDT_REMEDY_RATIO);
	assert_non_null(strstr(err.msg, "decompression bomb"));
	/* at the measured ratio and with no limit, it opens */
	struct wdt_source *s = wdt_gzip_open(m, ratio + 1, &err);
	assert_non_null(s);
	assert_int_equal(s->size, n);
	/* windows of zeros are kept deflated: far below 32 KiB each */
	assert_true(wdt_compressed_index_bytes(s) <
		    wdt_compressed_points(s) * 1024);
	wdt_source_close(s);
	m = wdt_source_open_mem(gz, gl, "z.gz", &err);
	s = wdt_gzip_open(m, 0, &err);
	assert_non_null(s);
	wdt_source_close(s);

	/* LZ4: one frame of zeros, ≈ 255× */
	size_t cap = (size_t)LZ4_compressBound(4u << 20) + 64, o = 0;
	uint8_t *lz = malloc(cap * 2 + 64);
	const uint8_t hdr[7] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73};
	memcpy(lz, hdr, 7);
	o = 7;
	for (int b = 0; b < 2; b++) {
		int c = LZ4_compress_default(
		    (const char *)zero, (char *)lz + o + 4, 4 << 20, (int)cap);
		assert_true(c > 0);
		lz[o] = (uint8_t)c;
		lz[o + 1] = (uint8_t)(c >> 8);
		lz[o + 2] = (uint8_t)(c >> 16);
		lz[o + 3] = 0;
		o += 4 + (size_t)c;
	}
	memset(lz + o, 0, 4);
	o += 4;
	ratio = n / o;
	m = wdt_source_open_mem(lz, o, "z.lz4", &err);
	assert_null(wdt_lz4_open(m, ratio - 1, &err));
	assert_int_equal(err.status, WDT_UNSUPPORTED);
	assert_int_equal(err.remedy, WDT_REMEDY_RATIO);
	s = wdt_lz4_open(m, ratio + 1, &err);
	assert_non_null(s);
	assert_int_equal(s->size, n);
	wdt_source_close(s);
	free(lz);
	free(gz);
	free(zero);
}

/* LZ4 index cap: 1-byte blocks beyond WDT_LZ4_FREE_BLOCKS are refused. */
static void test_lz4_block_cap(void **state)
{
	(void)state;
	struct wdt_err err;
	size_t nb = WDT_LZ4_FREE_BLOCKS + 1, len = 7 + nb * 5 + 4;
	uint8_t *f = malloc(len);
	const uint8_t hdr[7] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82};
	memcpy(f, hdr, 7);
	for (size_t i = 0; i < nb; i++) {
		uint8_t *b = f + 7 + i * 5;
		b[0] = 1;
		b[1] = 0;
		b[2] = 0;
		b[3] = 0x80; /* stored, 1 byte */
		b[4] = (uint8_t)i;
	}
	memset(f + len - 4, 0, 4);
	struct wdt_source *m = wdt_source_open_mem(f, len, "t.lz4", &err);
	assert_null(wdt_lz4_open(m, 0, &err));
	assert_int_equal(err.status, WDT_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "the index is capped"));
	wdt_source_close(m);
	/* one block fewer fits the free allowance */
	memset(f + len - 9, 0, 4);
	m = wdt_source_open_mem(f, len - 5, "t.lz4", &err);
	struct wdt_source *s = wdt_lz4_open(m, 0, &err);
	assert_non_null(s);
	assert_int_equal(s->size, nb - 1);
	wdt_source_close(s);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_lz4),
	    cmocka_unit_test(test_lz4_bad_frames),
	    cmocka_unit_test(test_readers),
	    cmocka_unit_test(test_ratio_guard),
	    cmocka_unit_test(test_lz4_block_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
